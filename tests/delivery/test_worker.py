"""The queue and its thread: bounds, threads, forks, start-up, stderr."""

import logging
import threading
import time
from pathlib import Path
from typing import Any, Set

import pytest

import ez_pixel
from ez_pixel.options import make_options
from helpers import KEY, run_script
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import BlackHole, FaultServer

pytestmark = pytest.mark.usefixtures("closing")


def quiet_logger(name: str) -> logging.Logger:
    """A logger whose records reach only ez-pixel's root handler (not pytest's capture)."""
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers = [
        h for h in logging.getLogger().handlers if isinstance(h, ez_pixel.PixelHandler)
    ]
    return logger


def test_full_queue_drops_new_events_and_never_blocks() -> None:
    with BlackHole() as hole:
        ez_pixel.init_pixel(KEY, hole.ingest_url, queue_size=5, read_timeout=0.5)
        started = time.monotonic()
        ids = [ez_pixel.report_pixel(f"e{i}") for i in range(50)]
        assert time.monotonic() - started < 1.0
        assert ids.count(None) >= 44
        assert ez_pixel.stats()["dropped"]["queue_full"] == ids.count(None)
        assert ez_pixel.flush_pixel(0.2) is False


def test_close_is_bounded_when_the_server_never_answers() -> None:
    with BlackHole() as hole:
        ez_pixel.init_pixel(KEY, hole.ingest_url, shutdown_timeout=0.5)
        ez_pixel.report_pixel("stuck")
        started = time.monotonic()
        ez_pixel.close_pixel()
        assert time.monotonic() - started < 1.5  # shutdown_timeout plus a margin


def test_logging_from_the_worker_thread_never_recurses() -> None:
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


def test_sixteen_threads_every_event_once_or_counted() -> None:
    with FaultServer() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=20_000)
        log = quiet_logger("threads")

        def work(n: int) -> None:
            for i in range(1000):
                log.error("thread %d item %d", n, i)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ez_pixel.flush_pixel(60)
        ids = [b["event_id"] for b in server.bodies()]
    stats = ez_pixel.stats()
    dropped = sum(stats["dropped"].values())  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids)) == stats["sent"] == stats["queued"]
    assert stats["queued"] + dropped == 16_000


def test_fork_child_reports_through_its_own_worker(tmp_path: Path) -> None:
    with FaultServer([{"status": 200, "delay": 0.5}]) as server:
        result = run_script(
            tmp_path,
            """
            import logging, multiprocessing, os, ez_pixel
            ez_pixel.init_pixel(shutdown_timeout=10)  # generous on a loaded CI machine
            log = logging.getLogger("forky")
            for i in range(3):
                log.error("parent before fork %d", i)   # still queued: the first send is slow
            pid = os.fork()
            if pid == 0:
                log.error("child error")
                ez_pixel.flush_pixel(10)
                os._exit(0)
            os.waitpid(pid, 0)
            def job():
                logging.getLogger("mp").error("multiprocessing child error")
            ctx = multiprocessing.get_context("fork")
            p = ctx.Process(target=job); p.start(); p.join()
            log.error("parent after fork")
            """,
            ingest_url=server.ingest_url,
        )
        assert result.returncode == 0, result.stderr
        server.wait_for(lambda b: len(b) >= 6)
        messages = sorted(b["message"] for b in server.bodies())
    assert messages == sorted(
        [f"parent before fork {i}" for i in range(3)]
        + ["child error", "multiprocessing child error", "parent after fork"]
    )


def test_delivery_imports_nothing_after_start_up(tmp_path: Path) -> None:
    # A module import under way on the worker when the process forks leaves
    # that module's lock held in the child forever: the child then hangs on
    # its first connection (this made the fork test fail about 4 times in 10).
    with FaultServer() as server:
        result = run_script(
            tmp_path,
            """
            import sys, time, ez_pixel
            client = ez_pixel.init_pixel()
            deadline = time.monotonic() + 10
            while client.worker.sender.transport is None and time.monotonic() < deadline:
                time.sleep(0.01)  # the worker's start-up, under the import guard
            before = set(sys.modules)
            try:
                {}["missing"]
            except KeyError as exc:
                client.capture_exception(exc)  # nothing printed: no import on this thread
            assert ez_pixel.flush_pixel(10)
            print(sorted(set(sys.modules) - before))
            """,
            ingest_url=server.ingest_url,
        )
        assert result.returncode == 0, result.stderr
        assert len(server.bodies()) == 1
    assert result.stdout.strip() == "[]"


def test_debug_prints_what_the_sdk_does(capfd: Any) -> None:
    with FaultServer([503]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("debug me")
        assert ez_pixel.flush_pixel(5)
    err = capfd.readouterr().err
    assert "-> 503" in err and "-> 200" in err and "backing off" in err


def _worker_threads() -> Set[threading.Thread]:
    # Thread objects, not idents: a new thread may reuse the ident of one that ended.
    return {t for t in threading.enumerate() if t.name == "ez-pixel-worker"}


def test_making_a_client_starts_nothing_and_start_is_explicit() -> None:
    with FaultServer() as server:
        before = _worker_threads()
        client = ez_pixel.Client(make_options(KEY, server.ingest_url))
        try:
            assert _worker_threads() == before
            client.start()
            assert len(_worker_threads() - before) == 1
        finally:
            client.close(1)
