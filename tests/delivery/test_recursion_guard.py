"""The delivery thread marks itself: nothing logged on it becomes an event.

Else one error logged from a ``before_send`` hook, or by a handler that runs
on the delivery thread, would feed itself forever.
"""

import logging
import threading
from typing import Any, Dict, List

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
