"""The markdown tables of ``results.json``: figures, pipelines, goals, profile summary."""

from typing import Any, Dict, List, Optional, Tuple

from report import (
    CAPTURED_ROWS,
    COLUMNS,
    MISSING,
    PIPELINE_ROWS,
    TIMES,
    Goal,
    Results,
    _get,
    _num,
    _ratio,
)


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


def header(results: Results) -> str:
    """What was measured, where and when: the line above the tables."""
    meta = results.get("meta", {})
    measured = meta.get("measured") or {}
    dates = sorted(info["date"] for info in measured.values() if isinstance(info, dict))
    quick = any(info.get("quick") for info in measured.values() if isinstance(info, dict))
    versions = meta.get("versions", {})
    dirty = " plus uncommitted changes to ez_pixel/" if meta.get("uncommitted_sdk_files") else ""
    when = f"{dates[0]} to {dates[-1]}" if dates else "?"
    return (
        f"Measured {when} with `python bench/run.py{' --quick' if quick else ''}` on commit "
        f"`{meta.get('commit', '?')}`{dirty}: ez-pixel {versions.get('ours', '?')} against "
        f"ez-pixel {versions.get('v010', '?')} and sentry-sdk {versions.get('sentry', '?')}, "
        f"Python {meta.get('python', '?')} on {meta.get('platform', '?')} "
        f"({meta.get('cpu', '?')}, {meta.get('cores', '?')} cores)."
    )


def _profile_lines(results: Results) -> List[str]:
    """The fully captured call, stage by stage and by function (from profile_hot.py)."""
    profile = results.get("profile", {})
    stages = profile.get("breakdown") or {}
    lines: List[str] = []
    if stages and "error" not in stages:
        floor = stages.get("no handler")
        full = stages.get("everything")
        ours = (full - floor) if isinstance(full, float) and isinstance(floor, float) else None
        lines += [
            "",
            "| every call captured, stages switched off (profile_hot.py) "
            "| µs inside `logger.exception` | added by the stage | share of ez-pixel's time |",
            "|---|---|---|---|",
        ]
        before: Optional[float] = None
        for name, value in stages.items():
            added = None if before is None else value - before
            share = _ratio(added, ours)
            lines.append(
                f"| {name} | {_num(value, 2)} | {_num(added, 2)} "
                f"| {MISSING if share is None else f'{share:.0%}'} |"
            )
            before = value
    captured = profile.get("captured") or {}
    top = captured.get("top") or []
    if top:
        lines += [
            "",
            "| every call captured, cProfile by own time (profile_hot.py) | calls per log "
            "| share of the time inside `logger.exception` |",
            "|---|---|---|",
        ]
        for row in top[:12]:
            lines.append(
                f"| `{row['function']}` | {row['calls_per_log']:.0f} | {row['share']:.1%} |"
            )
    worker = profile.get("worker") or {}
    caller_us = captured.get("unprofiled_in_call_us")
    if worker.get("prepare_us") and caller_us:
        lines += [
            "",
            f"Worker side, per event (profile_hot.py): building the body takes "
            f"{_ratio(worker['prepare_us'], caller_us):.1f}{TIMES} and POSTing it "
            f"{_ratio(worker['post_us'], caller_us):.1f}{TIMES} the caller's whole "
            f"`logger.exception` ({worker.get('body_bytes')} bytes a body).",
        ]
    return lines


def markdown(results: Results, goals: List[Goal]) -> str:
    """The figures, structlog and goals tables as markdown."""
    lines = [header(results), ""]
    lines += ["| measure | " + " | ".join(title for _, title in COLUMNS) + " |"]
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
            "| CPU µs per call during bursts, all threads "
            "| µs, first call of a batch | µs, calls 11-50 (median) | delivered/sent |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, title in CAPTURED_ROWS:
            entry = captured.get(name) or {}
            if "error" in entry or "skipped" in entry:
                lines.append(
                    f"| {title} | {entry.get('error') or entry.get('skipped')} | | | | | |"
                )
                continue
            sent = entry.get("sent")
            delivery = f"{_num(entry.get('delivered'))}/{_num(sent)}" if sent else MISSING
            lines.append(
                f"| {title} | {_with_range(entry, 'in_call_us')} | {_num(entry.get('us'))} "
                f"| {_num(entry.get('cpu_us'))} | {_num(entry.get('first_call_us'))} "
                f"| {_num(entry.get('steady_us'))} | {delivery} |"
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
    lines += _profile_lines(results)
    return "\n".join(lines)
