"""Helpers for asserting on ez-pixel events in your own test suite.

:func:`capture_events` starts a real collector on loopback, gives you its
ingest URL, and records every event the SDK sends, so a test can check what
would reach the server without any network or account::

    import ez_pixel
    from ez_pixel.testing import capture_events

    def test_checkout_failure_is_reported():
        with capture_events() as capture:
            ez_pixel.init_pixel("pk_test_local", capture.ingest_url)
            try:
                checkout()
            finally:
                ez_pixel.close_pixel()
            [event] = capture.wait_for(1)
            assert event["type"] == "PaymentDeclined"

The collector checks each event exactly as the hosted server does (an event it
refuses is recorded with its status, so a test can see that too), and accepts
any well-formed project key unless ``keys`` is given.
"""

import contextlib
import threading
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, TextIO, Tuple, Union

from ez_pixel.collector.server import Collector, parse_body

__all__ = ["Received", "RecordingCollector", "WaitTimeout", "capture_events"]

#: One recorded ``POST /ingest``: (status, parsed JSON body or None, lower-cased headers).
Received = Tuple[int, Any, Dict[str, str]]
#: What :meth:`RecordingCollector.wait_for` waits for: a count of accepted events, or a test.
WaitCondition = Union[int, Callable[[List[Any]], bool]]


class WaitTimeout(AssertionError):
    """Raised by :meth:`RecordingCollector.wait_for` when its condition is not met in time."""


def _as_predicate(condition: WaitCondition) -> Callable[[List[Any]], bool]:
    """Turn a count of accepted events into a test on the accepted bodies."""
    if not isinstance(condition, int):
        return condition
    return lambda bodies: len(bodies) >= condition


class RecordingCollector(Collector):
    """A :class:`~ez_pixel.collector.Collector` that keeps every ``POST /ingest``.

    Takes the collector's arguments (``port=0`` by default: a free port on
    127.0.0.1, an in-memory database). Start it with ``with`` or :meth:`start`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        keys: Optional[Iterable[str]] = None,
        echo: Optional[TextIO] = None,
        *,
        accept_any_key: Optional[bool] = None,
        **options: Any,
    ) -> None:
        """Configure the collector; nothing listens until :meth:`start`.

        Unless ``keys`` is given, any well-formed project key is accepted.
        """
        if accept_any_key is None:
            accept_any_key = keys is None
        super().__init__(host, port, db, keys, echo, accept_any_key=accept_any_key, **options)
        #: Every ``POST /ingest`` as ``(status, body_json_or_None, headers)``, in arrival order.
        self.received: List[Received] = []
        self._changed = threading.Condition()

    def on_ingest(
        self, status: int, text: Optional[str], headers: Dict[str, str], answer: Dict[str, Any]
    ) -> None:
        """Record one ingest request and wake up :meth:`wait_for`."""
        super().on_ingest(status, text, headers, answer)
        with self._changed:
            self.received.append((status, parse_body(text), headers))
            self._changed.notify_all()

    def accepted(self) -> List[Any]:
        """Return the bodies of events answered 200, in arrival order."""
        with self._changed:
            return [body for status, body, _ in self.received if status == 200]

    def wait_for(self, predicate_or_count: WaitCondition, timeout: float = 5.0) -> List[Any]:
        """Wait until N events were accepted (or ``predicate(accepted_bodies)`` holds).

        Returns the accepted (status 200) bodies; raises :class:`WaitTimeout`
        when the deadline passes first.
        """
        predicate = _as_predicate(predicate_or_count)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                bodies = self.accepted()
                if predicate(bodies):
                    return bodies
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    statuses = [status for status, _, _ in self.received]
                    raise WaitTimeout(
                        f"condition not met within {timeout}s; ingest statuses so far: {statuses}"
                    )
                self._changed.wait(remaining)


@contextlib.contextmanager
def capture_events(**collector_options: Any) -> Iterator[RecordingCollector]:
    """Run a :class:`RecordingCollector` on loopback for the ``with`` block.

    Point the SDK at ``capture.ingest_url``; read ``capture.received`` or wait
    with ``capture.wait_for(n)``. Keyword arguments go to the collector.
    """
    collector = RecordingCollector(**collector_options)
    collector.start()
    try:
        yield collector
    finally:
        collector.stop()
        collector.store.close()
