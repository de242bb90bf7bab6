"""Delivery against a scripted real server: retries, rejections, bounds."""

import logging
import time
from typing import Any, Iterator

import pytest

import ez_pixel
from faults import BlackHole, FaultServer
from helpers import KEY


@pytest.fixture
def closing() -> Iterator[None]:
    yield
    ez_pixel.close_pixel(timeout=1)


def test_transient_failures_are_retried_with_the_same_event_id(closing: None) -> None:
    with FaultServer([503, {"status": 502}, 500, 200]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        event_id = ez_pixel.report_pixel("flaky server")
        assert ez_pixel.flush_pixel(10)
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == [event_id] * 4
    stats = ez_pixel.stats()
    assert stats["sent"] == 1 and stats["retried"] == 3 and stats["dropped"] == {}


def test_retry_after_is_honoured(closing: None) -> None:
    with FaultServer([{"status": 429, "retry_after": 1}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        started = time.monotonic()
        ez_pixel.report_pixel("rate limited")
        assert ez_pixel.flush_pixel(10)
        elapsed = time.monotonic() - started
        assert len(server.bodies()) == 2
    assert elapsed >= 0.9  # the default first backoff would be 0.2 s


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_permanent_rejections_are_not_retried(closing: None, capfd: Any, status: int) -> None:
    with FaultServer([status, status, status]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("first")
        ez_pixel.report_pixel("second")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    stats = ez_pixel.stats()
    assert stats["dropped"] == {f"rejected_{status}": 2} and stats["retried"] == 0
    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("ez-pixel:")]
    assert len(warnings) == 1, err  # one clear warning per cause, not per event
    assert KEY not in err


def test_retries_run_out_and_the_drop_is_counted(closing: None) -> None:
    with FaultServer([503] * 3) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=2)
        ez_pixel.report_pixel("gives up")
        ez_pixel.report_pixel("next one lands")
        assert ez_pixel.flush_pixel(10)
        assert [b["message"] for b in server.bodies()] == ["gives up"] * 3 + ["next one lands"]
    assert ez_pixel.stats()["dropped"] == {"retries_exhausted": 1}


def test_full_queue_drops_new_events_and_never_blocks(closing: None) -> None:
    with BlackHole() as hole:
        ez_pixel.init_pixel(KEY, hole.ingest_url, queue_size=5, read_timeout=0.5)
        started = time.monotonic()
        ids = [ez_pixel.report_pixel(f"e{i}") for i in range(50)]
        assert time.monotonic() - started < 1.0
        assert ids.count(None) >= 44
        assert ez_pixel.stats()["dropped"]["queue_full"] == ids.count(None)
        assert ez_pixel.flush_pixel(0.2) is False


def test_close_is_bounded_when_the_server_never_answers(closing: None) -> None:
    with BlackHole() as hole:
        ez_pixel.init_pixel(KEY, hole.ingest_url, shutdown_timeout=0.5)
        ez_pixel.report_pixel("stuck")
        started = time.monotonic()
        ez_pixel.close_pixel()
        assert time.monotonic() - started < 1.5  # shutdown_timeout plus a margin


def test_a_stale_keep_alive_connection_is_retried_transparently(closing: None) -> None:
    with FaultServer(["reset", 200]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("after a reset")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    assert ez_pixel.stats()["sent"] == 1


def test_logging_from_the_worker_thread_never_recurses(closing: None) -> None:
    urllib3_logger = logging.getLogger("urllib3")
    old_level = urllib3_logger.level
    urllib3_logger.setLevel(logging.DEBUG)
    handler = logging.getLogger().handlers
    try:
        with FaultServer([503, 200]) as server:
            ez_pixel.init_pixel(KEY, server.ingest_url)
            for h in handler:
                if isinstance(h, ez_pixel.PixelHandler):
                    h.setLevel(logging.DEBUG)
            logging.getLogger("app").warning("one event only")
            assert ez_pixel.flush_pixel(10)
            assert [b["message"] for b in server.bodies()] == ["one event only"] * 2
    finally:
        urllib3_logger.setLevel(old_level)


def test_flush_without_timeout_gives_up_on_a_server_that_is_down(closing: None) -> None:
    from faults import free_port

    ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{free_port()}/ingest", max_retries=2)
    ez_pixel.report_pixel("nobody listens")
    started = time.monotonic()
    assert ez_pixel.flush_pixel() is False  # no hang: 3 failed probes (0.2 + 0.4 s of backoff)
    assert time.monotonic() - started < 5
    assert ez_pixel.stats()["pending"] == 1  # still queued, not dropped
