"""The SDK's own guards, exercised through the real mechanism.

The delivery thread marks itself so that nothing logged on it becomes an
event (else one error logged from a ``before_send`` hook would feed itself
forever), and a cycle of ``__cause__``/``__context__`` is described once.
"""

import logging
import threading
from typing import Any, Dict, List, Optional

import pytest

import ez_pixel
from helpers import assert_valid

app_log = logging.getLogger("tests.guards.app")


def delivered(collector: Any, count: int) -> List[Dict[str, Any]]:
    """Flush, then every event the collector stored (at least ``count``), each valid."""
    assert ez_pixel.flush_pixel(10)
    events = collector.wait_for(count)
    for event in events:
        assert_valid(event)
    return events  # type: ignore[no-any-return]


def test_an_error_logged_from_before_send_never_becomes_an_event(
    pixel: Any, collector: Any
) -> None:
    hook_threads: List[str] = []

    def noisy_hook(event: Dict[str, Any]) -> Dict[str, Any]:
        hook_threads.append(threading.current_thread().name)
        app_log.error("before_send saw %s", event["type"])  # reaches the root PixelHandler
        return event

    pixel(before_send=noisy_hook)
    ez_pixel.report_pixel("the only error")
    events = delivered(collector, 1)
    assert [event["message"] for event in events] == ["the only error"]
    assert hook_threads == ["ez-pixel-worker"]  # the hook ran on the delivery thread, once
    stats = ez_pixel.stats()
    assert stats["queued"] == 1 and stats["sent"] == 1, stats


class Relay(logging.Handler):
    """A log-forwarding handler: re-logs what it sees as an application error."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.threads: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.threads.append(threading.current_thread().name)
        app_log.error("relayed: %s", record.getMessage())


def test_a_handler_logging_on_the_delivery_thread_never_feeds_it(
    pixel: Any, collector: Any
) -> None:
    # A hook that only logs at INFO, and a forwarding handler on that logger
    # that escalates to an application error: both run on the delivery thread.
    audit = logging.getLogger("tests.guards.audit")
    relay = Relay()
    audit.addHandler(relay)
    audit.setLevel(logging.INFO)

    def auditing_hook(event: Dict[str, Any]) -> Dict[str, Any]:
        audit.info("sending %s", event["message"])
        return event

    try:
        pixel(before_send=auditing_hook)
        ez_pixel.report_pixel("first")
        ez_pixel.report_pixel("second")
        events = delivered(collector, 2)
    finally:
        audit.removeHandler(relay)
        audit.setLevel(logging.NOTSET)
    assert relay.threads == ["ez-pixel-worker"] * 2  # the relay really ran on the delivery thread
    assert sorted(event["message"] for event in events) == ["first", "second"]
    assert ez_pixel.stats()["queued"] == 2


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def reported_causes(pixel: Any, collector: Any, exc: BaseException) -> Optional[List[Any]]:
    pixel()
    app_log.error("chained", exc_info=exc)
    (event,) = delivered(collector, 1)
    assert event["type"] == type(exc).__name__
    return event.get("causes")


def test_a_cause_that_cycles_back_is_described_once(pixel: Any, collector: Any) -> None:
    first, second = ValueError("a"), KeyError("b")
    first.__cause__, second.__context__ = second, first  # first -> second -> first -> ...
    causes = reported_causes(pixel, collector, raised(first))
    assert causes is not None
    assert [(c["type"], c["message"]) for c in causes] == [("KeyError", "'b'")]


def test_an_exception_that_is_its_own_context_has_no_causes(pixel: Any, collector: Any) -> None:
    exc = raised(RuntimeError("itself"))
    exc.__context__ = exc
    assert reported_causes(pixel, collector, exc) is None


def where(exc: BaseException) -> Dict[str, Any]:
    """The innermost frame of ``exc``'s traceback, as the event describes it."""
    tb = exc.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return {"line": tb.tb_lineno, "fn": tb.tb_frame.f_code.co_name}


def test_a_real_chain_is_described_link_by_link(pixel: Any, collector: Any) -> None:
    def parse() -> None:
        int("kiwi")

    try:
        try:
            parse()
        except ValueError as bad_number:
            saved_number = bad_number
            {}["price"]  # a KeyError while handling it: __context__
    except KeyError as missing:
        saved_missing = missing
        try:
            raise RuntimeError("checkout failed") from missing
        except RuntimeError as final:
            top = final
    causes = reported_causes(pixel, collector, top)
    assert causes is not None
    assert [(c["type"], c["message"]) for c in causes] == [
        ("KeyError", "'price'"),
        ("ValueError", "invalid literal for int() with base 10: 'kiwi'"),
    ]
    for described, real in zip(causes, (saved_missing, saved_number)):
        assert described["file"] == "tests/test_guards.py"
        assert {"line": described["line"], "fn": described["fn"].rsplit(".", 1)[-1]} == where(real)


def test_raise_from_none_has_no_causes(pixel: Any, collector: Any) -> None:
    try:
        try:
            {}["x"]
        except KeyError:
            raise ValueError("clean") from None
    except ValueError as exc:
        top = exc
    assert reported_causes(pixel, collector, top) is None


@pytest.mark.parametrize("length", [3, 6])
def test_a_long_chain_is_cut_to_three_causes(pixel: Any, collector: Any, length: int) -> None:
    top: BaseException = raised(OSError("cause 0"))
    for number in range(1, length + 1):
        outer = raised(OSError(f"cause {number}"))
        outer.__cause__ = top
        top = outer
    causes = reported_causes(pixel, collector, top)
    assert causes is not None
    assert [c["message"] for c in causes] == [f"cause {length - i}" for i in range(1, 4)]
