"""Turning ``results.json`` into the issues' goals (PASS/FAIL); tables.py renders them."""

from typing import Any, Dict, List, Optional

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
    return Goal(name, f"{value:.{3 if abs(value) < 0.01 else 2}f}{TIMES}", target, passed)


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
    if isinstance(ours_ms, (int, float)):
        # A lazy import is within the noise of `python -c pass`: below it reads as 0, not < 0.
        ours_ms = max(0.0, ours_ms)
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
