"""Property-based fuzzing of every public entry point with hostile input.

For every input the host call returns normally and is accounted for at once
(queued, or dropped and counted), and once flushed every queued event reached
the real collector (which enforces every rule of the ingest contract and
answers 400/413 otherwise) or was dropped and counted. Each test starts its own
client against its own collector and checks only its own events, so each runs
alone or in any order. ``EZ_PIXEL_FUZZ_EXAMPLES`` raises the number of cases
(the ``fuzz`` tox env runs many more).
"""

import logging
import math
import os
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ez_pixel
from helpers import assert_valid

EXAMPLES = int(os.environ.get("EZ_PIXEL_FUZZ_EXAMPLES", "600"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


class Hostile:
    """An object whose dunder methods misbehave in the chosen way."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __str__(self) -> Any:
        if self.mode == "raise":
            raise RuntimeError("no str")
        if self.mode == "non-str":
            return 42
        if self.mode == "huge":
            return "h" * 200_000
        return "\udcff lone surrogate"

    def __repr__(self) -> Any:
        if self.mode in ("raise", "huge"):
            raise ValueError("no repr")
        return b"bytes repr"  # not a str: repr() raises TypeError

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    def __hash__(self) -> int:
        raise RuntimeError("no hash")


def recursive_list() -> List[Any]:
    items: List[Any] = [1]
    items.append(items)
    return items


SCALARS = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=5),
    st.binary(max_size=100),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.sampled_from([math.nan, math.inf, "%s %s %d", "%(missing)s", "{0} {}", "\x00\x1b[31m"]),
    st.builds(Hostile, st.sampled_from(["raise", "non-str", "huge", "surrogate"])),
    st.builds(recursive_list),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.frozensets(st.integers(), max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=10,
)


class HostileError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str of an exception raised")


def make_exception(kind: str, payload: Any) -> BaseException:
    exc: BaseException
    if kind == "args":
        exc = ValueError(payload)
    elif kind == "hostile":
        exc = HostileError(payload)
    elif kind == "cycle":
        exc = KeyError(payload)
        other = TypeError("other")
        exc.__context__, other.__context__ = other, exc
    elif kind == "keyboard":
        exc = KeyboardInterrupt(payload)
    elif kind == "system-exit":
        exc = SystemExit(payload)
    else:  # from a C extension
        try:
            import json

            json.loads(b"\xff\xfe{" if payload is None else "{")
        except Exception as raised:
            return raised
        exc = ValueError("unreachable")
    try:
        raise exc
    except BaseException as raised:
        return raised


_FUZZ_LOGGER = logging.Logger("tests.fuzz")  # outside the hierarchy: no root, no pytest capture


def isolated_logger() -> logging.Logger:
    """A logger whose only handler is ez-pixel's (pytest's capture would re-raise format errors)."""
    if not _FUZZ_LOGGER.handlers:
        _FUZZ_LOGGER.addHandler(ez_pixel.PixelHandler(logging.WARNING))
    return _FUZZ_LOGGER


#: Counters the caller's thread moves when it takes or refuses an event.
CALLER_SIDE = ("queued", "flood", "queue_full")


def caller_counts() -> Dict[str, int]:
    stats = ez_pixel.stats()
    dropped: Dict[str, int] = stats["dropped"]  # type: ignore[assignment]
    counts = {name: dropped.get(name, 0) for name in CALLER_SIDE[1:]}
    counts["queued"] = stats["queued"]  # type: ignore[assignment]
    return counts


class Ledger:
    """Checks that each call is accounted for at once: queued, or dropped and counted."""

    def __init__(self) -> None:
        self.queued = 0
        self.manual_ids: Dict[str, str] = {}  # report_pixel's id -> the expected type

    def call(self, report: Any, expected_type: Optional[str] = None) -> Any:
        before = caller_counts()
        result = report()
        after = caller_counts()
        moved = {name: after[name] - before[name] for name in CALLER_SIDE}
        assert sum(moved.values()) == 1, moved  # exactly one event taken, or one counted drop
        self.queued += moved["queued"]
        if expected_type is not None:  # report_pixel: an id exactly when it was queued
            assert (result is not None) == bool(moved["queued"]), (result, moved)
            if result is not None:
                assert isinstance(result, str)
                self.manual_ids[result] = expected_type
        return result

    def settle(self, collector: Any) -> List[Dict[str, Any]]:
        """Every queued event arrived valid, or was refused for the group cap and counted."""
        assert ez_pixel.flush_pixel(60)
        received = list(collector.received)
        assert [status for status, _, _ in received if status not in (200, 429)] == []
        # Past 10,000 groups the server refuses new fingerprints (429): counted, never retried.
        capped = [body for status, body, _ in received if status == 429]
        arrived = [body for status, body, _ in received if status == 200]
        stats = ez_pixel.stats()
        assert stats["queued"] == self.queued > 0
        assert stats["dropped"].get("rejected_429", 0) == len(capped)  # type: ignore[attr-defined]
        seen = {event["event_id"]: event for event in arrived + capped}
        assert len(seen) == self.queued  # each queued event arrived, under its own id
        assert stats["sent"] == len(seen) - len(capped)
        # A try whose answer was lost (a read timeout under load) is sent again with the
        # same id, which the server deduplicates: the only way an id may arrive twice.
        assert len(received) - len(seen) <= stats["retried"]  # type: ignore[operator]
        assert stats["pending"] == 0
        for event in arrived:
            assert_valid(event)
        for event_id, expected_type in self.manual_ids.items():
            event = seen[event_id]
            assert event["manual_report"] is True and event["type"] == expected_type
        return arrived


def wire_type(exc: BaseException) -> str:
    """The event's ``type`` for ``exc``: as a traceback prints it (builtins bare)."""
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture
def fuzz_pixel(pixel: Any) -> None:
    pixel(queue_size=100_000)


def test_log_calls_with_hostile_messages_and_arguments(fuzz_pixel: None, collector: Any) -> None:
    ledger = Ledger()
    levels: List[str] = []

    @FUZZ
    @given(
        message=VALUES,
        args=st.lists(VALUES, max_size=3),
        extra=VALUES,
        level=st.sampled_from([30, 40, 50]),
    )
    def log_once(message: Any, args: List[Any], extra: Any, level: int) -> None:
        log = isolated_logger()
        ledger.call(lambda: log.log(level, message, *args, extra={"fuzz_value": extra}))
        levels.append({30: "warning", 40: "error", 50: "fatal"}[level])

    log_once()
    arrived = ledger.settle(collector)
    assert all(event["manual_report"] is False for event in arrived)
    assert {event["level"] for event in arrived} <= set(levels)


def test_exceptions_through_logging_and_report_pixel(fuzz_pixel: None, collector: Any) -> None:
    ledger = Ledger()

    @FUZZ
    @given(
        kind=st.sampled_from(
            ["args", "hostile", "cycle", "keyboard", "system-exit", "c-extension"]
        ),
        payload=VALUES,
        message=VALUES,
    )
    def report_once(kind: str, payload: Any, message: Any) -> None:
        logged = make_exception(kind, payload)
        ledger.call(lambda: isolated_logger().error(message, exc_info=logged))
        manual = make_exception(kind, payload)
        ledger.call(lambda: ez_pixel.report_pixel(message, error=manual), wire_type(manual))
        ledger.call(lambda: ez_pixel.report_pixel(message), "ManualReport")

    report_once()
    arrived = ledger.settle(collector)
    logged = [event for event in arrived if not event["manual_report"]]
    assert logged and all(event["type"] != "LogMessage" for event in logged)
