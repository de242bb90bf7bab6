"""Property-based fuzzing of every public entry point with hostile input.

For every input the host call returns normally, and the event either reaches
the real collector (which enforces every rule of the ingest contract and
answers 400/413 otherwise) or is dropped and counted. ``EZ_PIXEL_FUZZ_EXAMPLES``
raises the number of cases (the ``fuzz`` tox env runs many more).
"""

import logging
import math
import os
from typing import Any, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ez_pixel
from ez_pixel.testing import RecordingCollector
from helpers import KEY, assert_valid

EXAMPLES = int(os.environ.get("EZ_PIXEL_FUZZ_EXAMPLES", "1500"))
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


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[RecordingCollector]:
    server = RecordingCollector().start()
    ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=100_000)
    try:
        yield server
    finally:
        ez_pixel.close_pixel(timeout=5)
        server.stop()


_FUZZ_LOGGER = logging.Logger("tests.fuzz")  # outside the hierarchy: no root, no pytest capture


def isolated_logger() -> logging.Logger:
    """A logger whose only handler is ez-pixel's (pytest's capture would re-raise format errors)."""
    if not _FUZZ_LOGGER.handlers:
        _FUZZ_LOGGER.addHandler(ez_pixel.PixelHandler(logging.WARNING))
    return _FUZZ_LOGGER


def settled(server: RecordingCollector) -> None:
    """Every event sent so far arrived valid, or was dropped and counted."""
    assert ez_pixel.flush_pixel(60)
    # Past 10,000 groups the server refuses new fingerprints (429): counted, never retried.
    capped = [body for status, body, _ in server.received if status == 429]
    rejected = [(status, body) for status, body, _ in server.received if status not in (200, 429)]
    assert rejected == []
    stats = ez_pixel.stats()
    dropped = sum(stats["dropped"].values())  # type: ignore[attr-defined]
    assert stats["dropped"].get("rejected_429", 0) == len(capped)  # type: ignore[attr-defined]
    assert stats["sent"] == len(server.received) - len(capped)
    before_queue = sum(
        stats["dropped"].get(reason, 0)  # type: ignore[attr-defined]
        for reason in ("flood", "queue_full", "sampled", "closed")
    )
    assert stats["queued"] == stats["sent"] + dropped - before_queue
    for _, body, _ in server.received[-50:]:
        assert_valid(body)


@FUZZ
@given(
    message=VALUES,
    args=st.lists(VALUES, max_size=3),
    extra=VALUES,
    level=st.sampled_from([30, 40, 50]),
)
def test_log_calls_with_hostile_messages_and_arguments(
    fuzz_server: RecordingCollector, message: Any, args: List[Any], extra: Any, level: int
) -> None:
    log = isolated_logger()
    log.log(level, message, *args, extra={"fuzz_value": extra})


@FUZZ
@given(
    kind=st.sampled_from(["args", "hostile", "cycle", "keyboard", "system-exit", "c-extension"]),
    payload=VALUES,
    message=VALUES,
)
def test_exceptions_through_logging_and_report_pixel(
    fuzz_server: RecordingCollector, kind: str, payload: Any, message: Any
) -> None:
    exc = make_exception(kind, payload)
    isolated_logger().error(message, exc_info=exc)
    second = make_exception(kind, payload)
    assert ez_pixel.report_pixel(message, error=second) is None or True
    ez_pixel.report_pixel(message)


def test_fuzzed_events_all_arrived_valid_or_were_counted(fuzz_server: RecordingCollector) -> None:
    settled(fuzz_server)
    assert len(fuzz_server.received) > EXAMPLES  # the runs above really sent events
