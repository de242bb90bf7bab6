"""Turning ``results.json`` into goals (PASS/FAIL) and markdown tables."""

from typing import Any, Dict, List, Optional, Tuple

#: Column order of the figures table: (result key, heading).
COLUMNS = (
    ("floor", "no handler"),
    ("stream", "StreamHandler"),
    ("ours", "ez-pixel (this repo)"),
    ("v010", "ez-pixel 0.1.0"),
    ("sentry", "sentry-sdk"),
)
PIPELINE_ROWS = (
    ("stream", "StreamHandler"),
    ("stream+ours", "StreamHandler + ez-pixel"),
    ("structlog", "structlog"),
    ("structlog+ours", "structlog + PixelProcessor"),
    ("structlog-tb", "structlog, format_exc_info"),
    ("structlog-tb+ours", "structlog, format_exc_info + PixelProcessor"),
)

Results = Dict[str, Any]
TIMES = "\u00d7"  # the multiplication sign
REPORTED = "reported"  # the target of a figure the issue asks for without a limit
CAPTURED_ROWS = (
    ("floor", "no handler (floor)"),
    ("ours", "ez-pixel"),
    ("stream", "StreamHandler"),
    ("stream+ours", "StreamHandler + ez-pixel"),
    ("stream+sentry", "StreamHandler + sentry-sdk"),
    ("sentry", "sentry-sdk"),
)
MISSING = "\u2013"  # an en dash


def _get(results: Results, *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(numerator: Any, denominator: Any) -> Optional[float]:
    if not isinstance(numerator, (int, float)) or not isinstance(denominator, (int, float)):
        return None
    return numerator / denominator if denominator else None


class Goal:
    """One goal from the issue: what was measured against what it must be."""

    def __init__(self, name: str, value: str, target: str, passed: Optional[bool]) -> None:
        self.name = name
        self.value = value
        self.target = target
        self.passed = passed

    @property
    def verdict(self) -> str:
        """PASS, FAIL, "reported" for a figure with no target, n/a when one is missing."""
        if self.passed is None:
            return "reported" if self.target == REPORTED and self.value != MISSING else "n/a"
        return "PASS" if self.passed else "FAIL"

    def as_dict(self) -> Dict[str, Any]:
        """The goal as JSON."""
        return {
            "goal": self.name,
            "value": self.value,
            "target": self.target,
            "verdict": self.verdict,
        }


def _ratio_goal(name: str, value: Optional[float], limit: float, *, below: bool = True) -> Goal:
    """A goal on a ratio: ``value <= limit`` (or ``>=`` when ``below`` is False)."""
    sign = "≤" if below else "≥"
    target = f"{sign} {limit:g}{TIMES}"
    if value is None:
        return Goal(name, MISSING, target, None)
    passed = value <= limit if below else value >= limit
    return Goal(name, f"{value:.2f}{TIMES}", target, passed)


def _info(name: str, value: Optional[float], unit: str = TIMES, digits: int = 2) -> Goal:
    """A figure the issue asks to report, with no limit."""
    if value is None:
        return Goal(name, MISSING, REPORTED, None)
    spaced = unit if unit == TIMES else f" {unit}"
    return Goal(name, f"{value:,.{digits}f}{spaced}", REPORTED, None)


def _limit_goal(name: str, value: Any, limit: float, unit: str) -> Goal:
    target = f"≤ {limit:g} {unit}"
    if not isinstance(value, (int, float)):
        return Goal(name, MISSING, target, None)
    return Goal(name, f"{value:.2f} {unit}", target, value <= limit)


def _captured_goals(results: Results) -> List[Goal]:
    """Issue 15: every call captured, and the console app (StreamHandler) with each SDK."""
    captured = results.get("captured", {})
    inside = {name: _get(captured, name, "in_call_us") for name, _ in CAPTURED_ROWS}
    goals = [
        _ratio_goal(
            "every call captured: ez-pixel / no-handler floor",
            _ratio(inside["ours"], inside["floor"]),
            2,
        ),
        _ratio_goal(
            "console app: StreamHandler + ez-pixel / StreamHandler",
            _ratio(inside["stream+ours"], inside["stream"]),
            1.1,
        ),
        _info(
            "console app: StreamHandler + sentry-sdk / StreamHandler",
            _ratio(inside["stream+sentry"], inside["stream"]),
        ),
    ]
    delivered = [_get(captured, name, "delivered") for name in ("ours", "stream+ours")]
    sent = [_get(captured, name, "sent") for name in ("ours", "stream+ours")]
    known = None not in delivered and None not in sent
    goals.append(
        Goal(
            "every call captured: every event delivered",
            f"{_num(sum(delivered))}/{_num(sum(sent))}" if known else MISSING,
            "all",
            (delivered == sent) if known else None,
        )
    )
    return goals


def evaluate(results: Results) -> List[Goal]:
    """Every goal of the issues, judged on ``results``."""
    caller = results.get("caller", {})
    us = {name: _get(caller, name, "us") for name, _ in COLUMNS + PIPELINE_ROWS}
    faults = results.get("faults", {})
    through = results.get("throughput", {})
    goals = _captured_goals(results)
    goals += [
        _ratio_goal("caller cost: ez-pixel / no-handler floor", _ratio(us["ours"], us["floor"]), 3),
        _ratio_goal("caller cost: ez-pixel / StreamHandler", _ratio(us["ours"], us["stream"]), 1),
    ]
    if _get(caller, "structlog+ours", "skipped"):
        goals.append(
            Goal("structlog: with PixelProcessor / without", "skipped", f"≤ 2{TIMES}", None)
        )
    else:
        goals.append(
            _ratio_goal(
                "structlog: with PixelProcessor / without",
                _ratio(us["structlog+ours"], us["structlog"]),
                2,
            )
        )
    ours_eps = _get(through, "ours", "events_per_s")
    goals.append(
        _ratio_goal(
            "throughput: ez-pixel / 0.1.0",
            _ratio(ours_eps, _get(through, "v010", "events_per_s")),
            3,
            below=False,
        )
    )
    delivered, sent = _get(through, "ours", "delivered"), _get(through, "ours", "sent")
    goals.append(
        Goal(
            "throughput: every event delivered",
            f"{_num(delivered)}/{_num(sent)}",
            "all",
            None if sent is None else delivered == sent,
        )
    )
    ours_cpu = _get(through, "ours", "cpu_us_per_event")
    for name, label in (("v010", "0.1.0"), ("sentry", "sentry-sdk")):
        goals.append(
            _info(
                f"CPU per delivered event, all threads: ez-pixel / {label}",
                _ratio(ours_cpu, _get(through, name, "cpu_us_per_event")),
            )
        )
    connections = _get(through, "ours", "connections")
    goals.append(
        Goal(
            "throughput: TCP connections",
            _num(connections),
            "≤ 5",
            None if connections is None else connections <= 5,
        )
    )
    goals.append(
        _ratio_goal(
            "never answers: per call / healthy",
            _ratio(
                _get(faults, "blackhole", "ours", "us"),
                _get(faults, "healthy", "ours", "us") or us["ours"],
            ),
            1.2,
        )
    )
    goals.append(
        _limit_goal(
            "never answers: exit after one error", _get(results, "exit", "ours", "s"), 2.5, "s"
        )
    )
    goals.append(
        _limit_goal(
            "never answers: exit after 100k errors",
            _get(faults, "blackhole", "ours", "exit_s"),
            2.5,
            "s",
        )
    )
    goals.append(
        _ratio_goal(
            "refused, 100k errors: per call / floor",
            _ratio(
                _get(faults, "refused", "ours", "us"),
                _get(faults, "floor", "floor", "us") or us["floor"],
            ),
            3,
        )
    )
    goals.append(
        _limit_goal(
            "refused, 100k errors: peak RSS growth",
            _get(faults, "refused", "ours", "peak_growth_mb"),
            10,
            "MB",
        )
    )
    goals.append(
        _limit_goal(
            "refused, 100k errors: exit", _get(faults, "refused", "ours", "exit_s"), 2.5, "s"
        )
    )
    imports = results.get("import", {})
    ours_ms = _get(imports, "ours", "delta_ms")
    goals.append(
        _ratio_goal(
            "import: ez-pixel / 0.1.0", _ratio(ours_ms, _get(imports, "v010", "delta_ms")), 0.35
        )
    )
    goals.append(
        _ratio_goal(
            "import: ez-pixel / sentry-sdk",
            _ratio(ours_ms, _get(imports, "sentry", "delta_ms")),
            0.2,
        )
    )
    memory = results.get("memory", {})
    goals.append(
        _info("memory: bytes held per queued event", _get(memory, "bytes_per_event"), "B", 0)
    )
    goals.append(
        _limit_goal("memory: a full default queue", _get(memory, "full_queue_mb"), 5, "MB")
    )
    goals.append(
        _info(
            "import and look up init_pixel: ez-pixel / 0.1.0",
            _ratio(_get(imports, "ours+api", "delta_ms"), _get(imports, "v010", "delta_ms")),
        )
    )
    goals.append(_limit_goal("init_pixel()", _get(results, "init", "ours", "ms"), 5, "ms"))
    idle = results.get("idle", {})
    baseline = _get(idle, "none", "cpu_ms")
    for key, label in (
        ("ours", "idle, initialised"),
        ("ours-after-error", "idle, after one error"),
    ):
        extra = _get(idle, key, "cpu_ms")
        over = None if extra is None or baseline is None else extra - baseline
        goals.append(_limit_goal(f"{label}: CPU over baseline", over, 1, "ms"))
    return goals


def _row(label: str, cells: List[str]) -> str:
    return "| " + " | ".join([label, *cells]) + " |"


def _with_range(entry: Any, key: str) -> str:
    """``median (lowest-highest)`` over an entry's runs."""
    if not isinstance(entry, dict) or entry.get(key) is None:
        return MISSING
    values = [run[key] for run in entry.get("runs", []) if isinstance(run.get(key), (int, float))]
    if len(values) < 2:
        return _num(entry[key])
    return f"{_num(entry[key])} ({_num(min(values))}{MISSING}{_num(max(values))})"


def _figure_rows(results: Results) -> List[Tuple[str, Dict[str, str]]]:
    caller = results.get("caller", {})
    faults = results.get("faults", {})
    through = results.get("throughput", {})
    rows: List[Tuple[str, Dict[str, str]]] = []
    rows.append(("µs per logger.exception, healthy sink: median (range of runs)", {
        name: _with_range(caller.get(name), "us") for name, _ in COLUMNS
    }))  # fmt: skip
    rows.append(("CPU µs per call, all threads, healthy sink", {
        name: _num(_get(caller, name, "cpu_us")) for name, _ in COLUMNS
    }))  # fmt: skip
    baseline = {
        "floor": _get(faults, "floor", "floor"),
        "ours": _get(faults, "healthy", "ours"),
    }
    if any(baseline.values()):
        rows.append(("µs per call, healthy sink, interleaved with the two faults below", {
            name: f"{_with_range(entry, 'us')}, {_num(entry.get('calls'))} calls"
            for name, entry in baseline.items()
            if entry
        }))  # fmt: skip
    for mode, label in (("blackhole", "server never answers"), ("refused", "connection refused")):
        cells: Dict[str, Dict[str, str]] = {"us": {}, "mem": {}, "exit": {}}
        for name, _ in COLUMNS:
            entry = _get(faults, mode, name)
            if not entry:
                continue
            runs = len(entry.get("runs", [])) or 1
            cells["us"][name] = f"{_with_range(entry, 'us')}, {_num(entry.get('calls'))} calls" + (
                f" {TIMES} {runs} runs" if runs > 1 else ""
            )
            cells["mem"][name] = _num(entry.get("peak_growth_mb"))
            cells["exit"][name] = _num(entry.get("exit_s"), 2)
        rows.append((f"µs per call, {label}", cells["us"]))
        rows.append((f"peak RSS growth MB, {label}", cells["mem"]))
        rows.append((f"exit s after last call, {label}", cells["exit"]))
    eps: Dict[str, str] = {}
    conn: Dict[str, str] = {}
    for name, _ in COLUMNS:
        entry = through.get(name)
        if entry:
            eps[name] = (
                f"{_num(entry.get('events_per_s'), 0)} "
                f"({_num(entry.get('delivered'))}/{_num(entry.get('sent'))} delivered)"
            )
            conn[name] = (
                f"{_num(entry.get('connections'))} "
                f"({_num(entry.get('events_per_s_per_connection'), 0)} ev/s each)"
            )
    rows.append(("throughput, events/s (delivered/sent)", eps))
    rows.append(("TCP connections (events/s per connection)", conn))
    rows.append(("CPU µs per event in the throughput run, all threads", {
        name: _num(_get(through, name, "cpu_us_per_event"), 0) for name, _ in COLUMNS
    }))  # fmt: skip
    rows.append(("exit s over baseline, one error, server never answers", {
        name: _num(_get(results, "exit", name, "s"), 2) for name, _ in COLUMNS
    }))  # fmt: skip
    imports = results.get("import", {})
    rows.append(("import ms over `python -c pass` (total ms)", {
        name: f"{_num(entry.get('delta_ms'))} ({_num(entry.get('total_ms'))})"
        for name, entry in ((n, imports.get(n)) for n, _ in COLUMNS) if entry
    }))  # fmt: skip
    with_api = imports.get("ours+api")
    if with_api:
        rows.append(("import ms, then `ez_pixel.init_pixel` looked up (total ms)", {
            "ours": f"{_num(with_api.get('delta_ms'))} ({_num(with_api.get('total_ms'))})"
        }))  # fmt: skip
    rows.append(("init ms", {
        name: _num(_get(results, "init", name, "ms"), 2) for name, _ in COLUMNS
    }))  # fmt: skip
    idle = results.get("idle", {})
    idle_cells = {}
    for name, key in (("floor", "none"), ("ours", "ours"), ("v010", "v010"), ("sentry", "sentry")):
        entry = idle.get(key)
        if entry:
            idle_cells[name] = f"{_num(entry['cpu_ms'], 2)} ms, {entry['wakeups']} wakeups"
    after = idle.get("ours-after-error")
    if after and "ours" in idle_cells:
        idle_cells["ours"] += (
            f"; after one error {_num(after['cpu_ms'], 2)} ms, {after['wakeups']} wakeups"
        )
    window = _get(idle, "none", "window")
    rows.append(
        (f"idle CPU over {_num(window)} s (no handler column: nothing initialised)", idle_cells)
    )
    return rows


def markdown(results: Results, goals: List[Goal]) -> str:
    """The figures, structlog and goals tables as markdown."""
    lines = ["| measure | " + " | ".join(title for _, title in COLUMNS) + " |"]
    lines.append("|---|" + "---|" * len(COLUMNS))
    for label, cells in _figure_rows(results):
        lines.append(_row(label, [cells.get(name, "") for name, _ in COLUMNS]))
    caller = results.get("caller", {})
    lines += [
        "",
        "| pipeline (`log.exception`, healthy sink) | µs per call | CPU µs per call, all threads |",
        "|---|---|---|",
    ]
    for name, title in PIPELINE_ROWS:
        entry = caller.get(name) or {}
        if "skipped" in entry:
            lines.append(f"| {title} | skipped: {entry['skipped']} | |")
        else:
            lines.append(f"| {title} | {_num(entry.get('us'))} | {_num(entry.get('cpu_us'))} |")
    captured = results.get("captured", {})
    if captured:
        lines += [
            "",
            "| every call captured (50 distinct errors a batch, flush between) "
            "| µs in the call: median (range of runs) | µs per call, batch wall "
            "| CPU µs per call during bursts, all threads | delivered/sent |",
            "|---|---|---|---|---|",
        ]
        for name, title in CAPTURED_ROWS:
            entry = captured.get(name) or {}
            if "error" in entry or "skipped" in entry:
                lines.append(f"| {title} | {entry.get('error') or entry.get('skipped')} | | | |")
                continue
            sent = entry.get("sent")
            delivery = f"{_num(entry.get('delivered'))}/{_num(sent)}" if sent else MISSING
            lines.append(
                f"| {title} | {_with_range(entry, 'in_call_us')} | {_num(entry.get('us'))} "
                f"| {_num(entry.get('cpu_us'))} | {delivery} |"
            )
    memory = results.get("memory")
    if isinstance(memory, dict) and memory.get("bytes_per_event") is not None:
        first = (memory.get("runs") or [{}])[0]
        lines += [
            "",
            f"Memory: {_num(memory['bytes_per_event'], 0)} bytes held per queued event "
            f"(tracemalloc; {_num(first.get('queued'))} distinct errors queued, "
            f"{_num(first.get('depth'))} frames deep); a full queue of "
            f"{_num(first.get('queue_size'))}: {_num(memory.get('full_queue_mb'), 2)} MB "
            f"(RSS growth {_num(memory.get('rss_growth_mb'), 2)} MB).",
        ]
    collector = _get(results, "throughput", "collector")
    ceiling = _get(results, "throughput", "ceiling", "requests_per_s")
    if ceiling:
        lines += [
            "",
            f"Sink ceiling (raw-socket client, one kept-alive connection): "
            f"{_num(ceiling, 0)} requests/s.",
        ]
    if collector:
        lines += [
            "",
            f"For information: ez-pixel into its own collector (`ez-pixel serve`, SQLite): "
            f"{_num(collector.get('events_per_s'), 0)} events/s "
            f"({_num(collector.get('delivered'))}/{_num(collector.get('sent'))} delivered).",
        ]
    measured = _get(results, "meta", "measured") or {}
    loads = ", ".join(
        f"{name} {info['load_before_after'][0]}→{info['load_before_after'][1]}"
        for name, info in measured.items()
        if isinstance(info, dict) and "load_before_after" in info
    )
    if loads:
        lines += ["", f"Load average (1 min) before→after each measure: {loads}."]
    lines += ["", "| goal | measured | target | result |", "|---|---|---|---|"]
    lines += [f"| {g.name} | {g.value} | {g.target} | {g.verdict} |" for g in goals]
    return "\n".join(lines)
