"""Delivery waits for the app to go quiet, within a bound, and never delays a flush."""

import threading
import time
from typing import Any, Dict, List

import pytest

import ez_pixel
from ez_pixel._delivery import pacing
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer

pytestmark = pytest.mark.usefixtures("closing")


class Arrivals(FaultServer):
    """A healthy server that notes when each event arrived (``time.monotonic()``)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: Dict[str, float] = {}

    def note(self) -> None:
        """Record the arrival time of every body received since the last call."""
        now = time.monotonic()
        for body in self.bodies():
            self.arrived.setdefault(body["message"], now)


def _poll_first(server: Arrivals, deadline: float) -> List[Dict[str, Any]]:
    while time.monotonic() < deadline and not server.bodies():
        time.sleep(0.005)
    server.note()
    return server.bodies()


def test_a_continuous_stream_is_delivered_in_full_and_the_first_event_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events keep coming for longer than MAX_DEFER: the first cannot wait for a quiet moment."""
    # A quiet period no scheduling hiccup on a loaded machine reaches: only
    # MAX_DEFER can end the wait while the stream lasts.
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 0.5)
    stream_for = pacing.MAX_DEFER + 3.0
    submitted: Dict[str, float] = {}
    stop = threading.Event()

    def app() -> None:
        started = time.monotonic()
        i = 0
        while not stop.is_set() and time.monotonic() - started < stream_for and i < 5000:
            message = f"stream event {i}"
            submitted[message] = time.monotonic()
            ez_pixel.report_pixel(message)
            i += 1
            time.sleep(0.002)  # the app's own work between two errors

    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=10_000)
        thread = threading.Thread(target=app)
        thread.start()
        try:
            first = _poll_first(server, time.monotonic() + stream_for + 5.0)
            assert first, "nothing was delivered while the app kept logging"
            waited = server.arrived[first[0]["message"]] - submitted[first[0]["message"]]
            assert thread.is_alive(), "the first event arrived only after the stream ended"
            assert waited <= pacing.MAX_DEFER + 2.0  # the documented bound, plus generous slack
        finally:
            stop.set()
            thread.join()
        assert ez_pixel.flush_pixel(30.0)
        delivered = {body["message"] for body in server.bodies()}
        assert delivered == set(submitted)
        assert ez_pixel.stats()["sent"] == len(submitted)


def test_a_burst_is_delivered_after_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is sent while the app keeps queueing: it keeps the GIL for its own work."""
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 1.0)
    monkeypatch.setattr(pacing, "MAX_DEFER", 30.0)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        for i in range(10):
            ez_pixel.report_pixel(f"burst event {i}")
            time.sleep(0.05)  # 0.05 s between errors: the app is busy, not quiet
            assert server.bodies() == [], f"delivered during the burst, after event {i}"
        assert server.wait_for(lambda bodies: len(bodies) == 10)  # no flush: the burst ended
        assert [body["message"] for body in server.bodies()] == [
            f"burst event {i}" for i in range(10)
        ]


def test_a_lone_event_is_delivered_after_the_quiet_period_without_a_flush() -> None:
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("alone")
        assert server.wait_for(lambda bodies: len(bodies) == 1)
        assert server.bodies()[0]["message"] == "alone"


def test_flush_and_close_never_wait_for_the_quiet_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 60.0)
    monkeypatch.setattr(pacing, "MAX_DEFER", 60.0)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("flushed")
        assert ez_pixel.flush_pixel(10.0) is True
        assert [body["message"] for body in server.bodies()] == ["flushed"]
        ez_pixel.report_pixel("closed")
        ez_pixel.close_pixel()
        assert [body["message"] for body in server.bodies()] == ["flushed", "closed"]


def test_a_half_full_queue_is_delivered_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 60.0)
    monkeypatch.setattr(pacing, "MAX_DEFER", 60.0)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=20)
        for i in range(10):
            ez_pixel.report_pixel(f"filling {i}")
        assert server.wait_for(lambda bodies: len(bodies) >= 1)


def test_a_flood_keeps_delivery_waiting_until_it_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors dropped as a flood are the app at work too: delivery waits for them to stop."""
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 1.0)
    monkeypatch.setattr(pacing, "MAX_DEFER", 30.0)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=20)  # 2 of one error at most
        for i in range(20):  # 2 s: twice the quiet period after the last job queued
            ez_pixel.report_pixel("the same error")
            time.sleep(0.1)  # slower than the quiet period would allow without the flood
            assert server.bodies() == [], f"delivered during the flood, after call {i}"
        assert ez_pixel.stats()["dropped"]["flood"] >= 18
        assert server.wait_for(lambda bodies: len(bodies) == 2)


def _wakeups(thread: threading.Thread) -> int:
    """How many times ``thread`` has gone to sleep and been woken (Linux's count)."""
    with open(f"/proc/self/task/{thread.native_id}/status") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches line")


def _delivery_thread() -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == "ez-pixel-worker")


def _wakeups_while_asleep(seconds: float) -> int:
    """The delivery thread's wake-ups while the app does nothing for ``seconds``."""
    thread = _delivery_thread()
    before = _wakeups(thread)
    time.sleep(seconds)
    return _wakeups(thread) - before


def test_errors_soon_after_others_do_not_wake_the_delivery_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waking it would cost the app a thread switch in the middle of its work."""
    monkeypatch.setattr(pacing, "WATCH_INTERVAL", 0.5)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("before")
        ez_pixel.report_pixel("errors keep coming")
        assert ez_pixel.flush_pixel(10.0)
        time.sleep(0.05)  # the thread settles into its wait
        thread = _delivery_thread()
        before = _wakeups(thread)
        for i in range(20):
            ez_pixel.report_pixel(f"soon after {i}")
        time.sleep(0.05)  # time for a woken thread to run (and count its switches)
        assert _wakeups(thread) == before  # a watch of the queue, not a wake-up per burst
        # ... and the burst still arrives without a flush, at the next look
        assert server.wait_for(lambda bodies: len(bodies) == 22, timeout=10)


def test_a_lone_error_leaves_the_delivery_thread_asleep_until_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pacing, "WATCH_INTERVAL", 0.05)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("lone")
        assert ez_pixel.flush_pixel(10.0)
        time.sleep(0.05)
        # ten watch intervals; no watch for a lone error: no polling
        assert _wakeups_while_asleep(0.5) == 0
        ez_pixel.report_pixel("next")
        assert server.wait_for(lambda bodies: len(bodies) == 2, timeout=10)


def test_long_after_the_last_error_the_delivery_thread_sleeps_until_woken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pacing, "WATCH_PERIOD", 0.2)
    monkeypatch.setattr(pacing, "WATCH_INTERVAL", 0.05)
    with Arrivals() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("first")
        ez_pixel.report_pixel("second")
        assert ez_pixel.flush_pixel(10.0)
        time.sleep(0.5)  # past the watch period
        assert _wakeups_while_asleep(0.5) == 0  # ten watch intervals: no polling once idle
        ez_pixel.report_pixel("much later")
        assert server.wait_for(lambda bodies: len(bodies) == 3, timeout=10)


def test_a_long_burst_wakes_the_delivery_thread_only_a_few_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each look at a busy app takes the GIL from it: the looks grow rarer as the burst goes on."""
    # A quiet period no scheduling hiccup on a loaded machine reaches, so that
    # the app stays busy for the whole burst.
    monkeypatch.setattr(pacing, "QUIET_PERIOD", 0.05)
    monkeypatch.setattr(pacing, "MAX_DEFER", 30.0)
    with Arrivals() as server:
        # a queue that the burst does not fill halfway (that would end the wait)
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=10_000)
        ez_pixel.report_pixel("before the burst")
        assert ez_pixel.flush_pixel(10.0)  # delivered: no send overlaps the count below
        time.sleep(0.05)  # the thread is back asleep
        thread = _delivery_thread()
        before = _wakeups(thread)
        started = time.monotonic()
        i = 0
        while time.monotonic() - started < 3.0 and i < 2000:  # 3 s, an error every 5 ms
            ez_pixel.report_pixel(f"burst event {i % 40}")
            time.sleep(0.005)
            i += 1
        switches = _wakeups(thread) - before
        # Looking every QUIET_PERIOD would be 60 looks; doubling waits make about
        # 6 (0.05 s, 0.1 s, 0.2 s, ...), each a switch or a few (the wait, the GIL).
        assert switches <= 30, switches
        assert server.wait_for(lambda bodies: len(bodies) >= 41, timeout=10)
