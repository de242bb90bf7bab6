"""gunicorn: a plain WSGI app served by a real gunicorn with two sync workers.

gunicorn logs an error escaping the app on ``gunicorn.error``, which it makes
non-propagating; ``init_pixel`` reports from it. With ``--preload`` the app is
imported once in the arbiter and the workers are forked from it; without, each
worker imports it. Either way each worker delivers its own events, and killing
a worker loses nothing it had delivered and duplicates nothing.
"""

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Set

import pytest

pytest.importorskip("gunicorn")

from helpers import assert_valid
from servers import free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def workers_of(pid: int) -> Set[int]:
    """The pids of ``pid``'s children, from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def wait_for_workers(pid: int, count: int, without: int, timeout: float = 20) -> Set[int]:
    """Poll until ``pid`` has ``count`` children, none of them ``without``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = workers_of(pid)
        if len(found) == count and without not in found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gunicorn has workers {workers_of(pid)}, not {count} without {without}")


@pytest.mark.parametrize("preload", [False, True], ids=["workers-import", "preload"])
def test_worker_errors_arrive_and_a_killed_worker_loses_nothing(
    fw: Any, collector: Any, preload: bool
) -> None:
    port = free_port()
    argv = [fw.python, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    argv += ["--graceful-timeout", "5", "gunicorn_app:app"] + (["--preload"] if preload else [])
    server = fw.start(argv, cwd=fw.examples, env=fw.env())
    base = f"http://127.0.0.1:{port}"
    server.wait_until_up(base + "/health")
    initial = wait_for_workers(server.pid, 2, without=-1)

    for _ in range(4):  # the query string is in gunicorn's log line, not in the events
        assert fw.http("GET", base + "/prices/kiwi?customer=bob%40example.com")[0] == 500
    collector.wait_for(4, timeout=15)  # delivered: nothing left in any worker's memory

    status, body = fw.http("GET", base + "/health")
    victim = json.loads(body)["pid"]
    assert status == 200 and victim in initial
    os.kill(victim, signal.SIGKILL)
    wait_for_workers(server.pid, 2, without=victim)  # the arbiter replaced it
    for _ in range(2):
        assert fw.http("GET", base + "/prices/kiwi")[0] == 500
    # With --preload the arbiter has init_pixel too, and reports the kill.
    expected = 6 + (1 if preload else 0)
    collector.wait_for(expected, timeout=15)
    assert server.stop() == 0
    assert "ez-pixel" not in server.output()

    events = collector.accepted()
    assert len(collector.received) == expected  # the server is gone: nothing more will come
    assert len({e["event_id"] for e in events}) == expected
    errors = [e for e in events if e["type"] == "KeyError"]
    assert len(errors) == 6
    for event in errors:
        assert_valid(event)
        assert event["logger"] == "gunicorn.error"
        # gunicorn 23 (the newest for Python 3.8) logs only the URI, later ones the method too
        assert event["message"].startswith("Error handling request ")
        assert event["message"].endswith("/prices/kiwi: 'kiwi'")
        assert event["stack"][0]["fn"] == "price_of" and event["stack"][0]["in_app"]
        assert event["stack"][0]["file"] == "gunicorn_app.py"
    assert len({e["fingerprint"] for e in errors}) == 1
    assert "bob" not in json.dumps(events)
    assert "customer=bob" in server.output()
    if preload:
        (kill,) = [e for e in events if e["type"] == "LogMessage"]
        assert kill["message"] == f"Worker (pid:{victim}) was sent SIGKILL! Perhaps out of memory?"
        assert kill["logger"] == "gunicorn.error" and kill["level"] == "error"
