"""Delivery under faults: outages, floods, threads, forks, spool, proxies, TLS."""

import json
import logging
import os
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest

import ez_pixel
from faults import FaultServer, Proxy, free_port
from helpers import KEY, run_script


@pytest.fixture(autouse=True)
def closing() -> Iterator[None]:
    yield
    ez_pixel.close_pixel(timeout=1)


def quiet_logger(name: str) -> logging.Logger:
    """A logger whose records reach only ez-pixel's root handler (not pytest's capture)."""
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers = [
        h for h in logging.getLogger().handlers if isinstance(h, ez_pixel.PixelHandler)
    ]
    return logger


def test_idle_keep_alive_closed_by_the_server_is_transparent() -> None:
    with FaultServer([{"status": 200, "close": True}, {"status": 200, "close": True}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        for i in range(3):
            ez_pixel.report_pixel(f"event {i}")
            assert ez_pixel.flush_pixel(5)
        assert [b["message"] for b in server.bodies()] == ["event 0", "event 1", "event 2"]
    stats = ez_pixel.stats()
    assert stats["sent"] == 3 and stats["dropped"] == {}


def test_outage_backs_off_as_a_whole_and_drains_in_order() -> None:
    port = free_port()
    ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{port}/ingest", max_retries=2)
    ids = [ez_pixel.report_pixel(f"during outage {i}") for i in range(30)]
    deadline = time.monotonic() + 10
    while ez_pixel.stats()["retried"] < 4 and time.monotonic() < deadline:
        time.sleep(0.05)  # let the outage last through a few backoff rounds
    with FaultServer(port=port) as server:
        assert ez_pixel.flush_pixel(15)
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == ids  # in order, each once
    stats = ez_pixel.stats()
    assert stats["dropped"] == {}  # an unreachable server spends no event's retry budget
    assert stats["retried"] < 12  # one probe at a time, not one per queued event


def test_flood_of_one_error_does_not_crowd_out_another(tmp_path: Path) -> None:
    with FaultServer(delay=0.005) as server:
        result = run_script(
            tmp_path,
            """
            import logging, resource, sys, ez_pixel
            client = ez_pixel.init_pixel()
            log = logging.getLogger("flood")
            def hot():
                raise TimeoutError("cache timeout")
            rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            before = rss()
            for i in range(100_000):
                try:
                    hot()
                except TimeoutError:
                    log.exception("hot loop")
                if i == 50_000:
                    try:
                        {}["rare"]
                    except KeyError:
                        log.exception("rare error during the flood")
            grown_kb = rss() - before
            ez_pixel.flush_pixel(30)
            stats = ez_pixel.stats()
            print(grown_kb, stats["queued"], stats["dropped"].get("flood", 0),
                  stats["dropped"].get("queue_full", 0), stats["sent"])
            """,
            ingest_url=server.ingest_url,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        grown_kb, queued, flood, full, sent = map(int, result.stdout.split())
        types = [b["type"] for b in server.bodies()]
    assert "KeyError" in types
    assert queued + flood + full == 100_001 and sent == queued == len(types)
    assert grown_kb < 10_000  # peak RSS grew by less than 10 MB


def test_an_error_that_fills_its_share_of_the_queue_pauses(monkeypatch: Any) -> None:
    monkeypatch.setattr("ez_pixel.worker.FLOOD_PAUSE", 2.0)

    def fail(kind: type = ValueError) -> None:
        try:
            raise kind("same bug")
        except Exception:
            log.exception("failed")

    with FaultServer([{"status": 200, "delay": 0.5}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=100)  # a share is 10
        log = quiet_logger("flood.pause")
        started = time.monotonic()
        fail()
        assert server.wait_for(lambda bodies: len(bodies) == 1)  # in flight for 0.5 s
        for _ in range(29):  # 10 wait, the rest are dropped
            fail()
        assert ez_pixel.flush_pixel(10)
        fail()  # still paused, though nothing of it waits any more
        fail(KeyError)  # another error is never held back
        assert ez_pixel.flush_pixel(10)
        assert ez_pixel.stats()["dropped"] == {"flood": 20}
        while time.monotonic() < started + 2.2:  # the pause ends
            time.sleep(0.05)
        fail()
        assert ez_pixel.flush_pixel(10)
        types = [b["type"] for b in server.bodies()]
    assert types == ["ValueError"] * 11 + ["KeyError", "ValueError"]
    assert ez_pixel.stats()["sent"] == 13


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
            while client.worker._transport is None and time.monotonic() < deadline:
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


SPOOL_APP = """
import logging, sys, ez_pixel
ez_pixel.init_pixel(spool_dir=sys.argv[1] if len(sys.argv) > 1 else "spool", connect_timeout=0.5)
for i in range(5):
    logging.getLogger("job").error("job %d failed", i)
"""


def test_spool_keeps_events_across_an_outage_and_a_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/ingest"
    down = run_script(tmp_path, SPOOL_APP, ingest_url=url)
    assert down.returncode == 0, down.stderr
    spooled = sorted(os.listdir(tmp_path / "spool"))
    assert len(spooled) == 5
    originals = [json.loads((tmp_path / "spool" / name).read_bytes()) for name in spooled]
    with FaultServer(port=port) as server:
        up = run_script(
            tmp_path, "import ez_pixel; ez_pixel.init_pixel(spool_dir='spool')", ingest_url=url
        )
        assert up.returncode == 0, up.stderr
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == [o["event_id"] for o in originals]
    assert [b["occurred_at"] for b in bodies] == [o["occurred_at"] for o in originals]
    assert os.listdir(tmp_path / "spool") == []


def test_two_processes_sharing_a_spool_never_send_twice(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    for i in range(40):
        event = {"event_id": f"spooled-{i}", "project_key": KEY, "message": f"m{i}"}
        (spool / f"{i:020d}-spooled-{i}.json").write_text(json.dumps(event))
    (spool / "00000000000000000000-corrupt.json").write_text('{"half": ')
    code = "import ez_pixel; ez_pixel.init_pixel(spool_dir='spool'); ez_pixel.flush_pixel(10)"
    with FaultServer(delay=0.002) as server:
        script = tmp_path / "replay.py"
        script.write_text(code)
        import subprocess
        import sys

        env = {**os.environ, "PIXEL_PROJECT_KEY": KEY, "PIXEL_INGEST_URL": server.ingest_url}
        procs = [
            subprocess.Popen([sys.executable, str(script)], cwd=str(tmp_path), env=env)
            for _ in range(2)
        ]
        assert all(p.wait(60) == 0 for p in procs)
        ids = [b["event_id"] for b in server.bodies()]
    assert sorted(ids) == sorted(f"spooled-{i}" for i in range(40))
    assert os.listdir(spool) == []  # the corrupt file was removed, not fatal


def test_unusable_spool_never_breaks_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    result = run_script(
        tmp_path,
        SPOOL_APP,
        ingest_url=f"http://127.0.0.1:{free_port()}/ingest",
        env={"UNUSED": "1"},
        name="app.py",
    )
    assert result.returncode == 0
    result = run_script(
        tmp_path,
        "import sys; sys.argv.append('not-a-dir'); exec(open('app.py').read())",
        name="blocked.py",
        ingest_url=f"http://127.0.0.1:{free_port()}/ingest",
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "5 event(s) not delivered" in result.stderr


def test_proxy_from_environment_and_explicit(monkeypatch: Any) -> None:
    with FaultServer() as server, Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("through the proxy")
        assert ez_pixel.flush_pixel(5)
        assert proxy.forwarded == [server.ingest_url]
        ez_pixel.close_pixel()

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("bypasses the proxy")
        assert ez_pixel.flush_pixel(5)
        assert len(proxy.forwarded) == 1
        ez_pixel.close_pixel()

        ez_pixel.init_pixel(KEY, server.ingest_url, proxy_url=proxy.url)
        ez_pixel.report_pixel("explicit proxy wins over NO_PROXY")
        assert ez_pixel.flush_pixel(5)
        assert len(proxy.forwarded) == 2
        assert [b["message"] for b in server.bodies()] == [
            "through the proxy",
            "bypasses the proxy",
            "explicit proxy wins over NO_PROXY",
        ]


def private_ca(tmp_path: Path, host: str) -> Tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for ``host``, and the file of the CA that signed it."""
    if os.environ.get("EZ_PIXEL_REQUIRE_FRAMEWORKS") == "1":
        import trustme  # CI and tox: a missing test dependency fails, never skips
    else:
        trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_tls_is_verified_and_a_private_ca_can_be_trusted(tmp_path: Path, capfd: Any) -> None:
    context, ca_file = private_ca(tmp_path, "127.0.0.1")
    with FaultServer(tls=context) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("never sent unverified")
        assert ez_pixel.flush_pixel(5)
        assert server.bodies() == []
        assert ez_pixel.stats()["dropped"] == {"tls_untrusted": 1}
        assert "CERTIFICATE_VERIFY_FAILED" in capfd.readouterr().err
        ez_pixel.close_pixel()

        ez_pixel.init_pixel(KEY, server.ingest_url, ca_certs=str(ca_file))
        ez_pixel.report_pixel("trusted")
        assert ez_pixel.flush_pixel(5)
        assert [b["message"] for b in server.bodies()] == ["trusted"]


def test_a_certificate_for_another_host_is_refused(tmp_path: Path, capfd: Any) -> None:
    context, ca_file = private_ca(tmp_path, "pixel.example.org")
    with FaultServer(tls=context) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, ca_certs=str(ca_file))  # trusted CA, wrong host
        ez_pixel.report_pixel("never sent to the wrong host")
        assert ez_pixel.flush_pixel(5)
        assert server.bodies() == []
    assert ez_pixel.stats()["dropped"] == {"tls_untrusted": 1}
    assert "127.0.0.1" in capfd.readouterr().err


def test_an_unreadable_ca_file_is_said_once_and_never_breaks_the_app(
    tmp_path: Path, capfd: Any
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    ez_pixel.init_pixel(KEY, f"https://127.0.0.1:{free_port()}/ingest", ca_certs=str(missing))
    for _ in range(3):
        ez_pixel.report_pixel("never sent")
    assert ez_pixel.flush_pixel(5)
    err = capfd.readouterr().err
    assert err.count("cannot set up delivery to https://127.0.0.1:") == 1
    assert "Traceback" not in err
    stats = ez_pixel.stats()
    assert stats["sent"] == 0 and stats["internal_errors"] == 3


def test_debug_prints_what_the_sdk_does(capfd: Any) -> None:
    with FaultServer([503]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("debug me")
        assert ez_pixel.flush_pixel(5)
    err = capfd.readouterr().err
    assert "-> 503" in err and "-> 200" in err and "backing off" in err
