"""The local collector, its store and the CLI, against a real server over HTTP."""

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import make_event

from ez_pixel.cli import main
from ez_pixel.collector import Collector, ErrorStore
from ez_pixel.collector.render import render_code_context
from ez_pixel.contract import MAX_BODY_CHARS, PROJECT_KEY_RE
from ez_pixel.testing import RecordingCollector, WaitTimeout

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Answer = Tuple[int, Any, http.client.HTTPResponse]


def call(
    server: Collector,
    method: str,
    path: str,
    body: Any = None,
    headers: Optional[Dict[str, str]] = None,
    conn: Optional[http.client.HTTPConnection] = None,
) -> Answer:
    """Send one request; ``body`` is JSON-encoded unless already bytes. Returns (status, json)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    try:
        conn.request(method, path, data, all_headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        if own:
            conn.close()
    assert response.getheader("content-type") == "application/json"
    return response.status, json.loads(raw) if raw else None, response


def post(server: Collector, body: Any, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    """POST to /ingest and return (status, json)."""
    status, answer, _ = call(server, "POST", "/ingest", body, headers)
    return status, answer


def raw_exchange(server: Collector, request: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        chunks: List[bytes] = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def sized_event(size: int) -> bytes:
    """A valid event whose JSON body is exactly ``size`` bytes (padded with an extra field)."""
    base = json.dumps(make_event(padding="")).encode()
    body = json.dumps(make_event(padding="x" * (size - len(base)))).encode()
    assert len(body) == size
    return body


# -- answers ---------------------------------------------------------------------------


def test_valid_event_is_created(collector: RecordingCollector) -> None:
    status, answer = post(collector, make_event())
    assert (status, answer) == (200, {"error_id": 1, "created": True, "recurred": False})
    group = collector.store.get_group(1)
    assert group is not None
    assert group["occurrences"] == 1
    assert group["stack"][0]["file"] == "app/views.py"
    assert group["code_context"]["error_line"] == 42


def test_same_fingerprint_bumps_and_keeps_newest(collector: RecordingCollector) -> None:
    post(collector, make_event())
    newer = make_event(
        message="newer",
        level="fatal",
        type="KeyError",
        code_context=None,
        stack=[{"file": "b.py", "line": 1, "col": 0, "fn": "f", "in_app": True}],
        context={"user": "u1"},
    )
    status, answer = post(collector, newer)
    assert (status, answer) == (200, {"error_id": 1, "created": False, "recurred": False})
    group = collector.store.get_group(1)
    assert group is not None
    assert group["occurrences"] == 2
    assert group["last_event_id"] == newer["event_id"]
    assert (group["message"], group["level"], group["type"]) == ("newer", "fatal", "KeyError")
    assert group["code_context"] is None
    assert group["stack"] == newer["stack"]
    assert group["extra"] == {"context": {"user": "u1"}}
    assert group["last_seen_at"] >= group["first_seen_at"]


def test_same_event_id_is_a_duplicate_without_bump(collector: RecordingCollector) -> None:
    event = make_event()
    post(collector, event)
    status, answer = post(collector, event)
    assert (status, answer) == (200, {"error_id": 1, "duplicate": True})
    group = collector.store.get_group(1)
    assert group is not None and group["occurrences"] == 1


def test_duplicate_is_only_against_the_last_stored_event(collector: RecordingCollector) -> None:
    first, second = make_event(), make_event()
    for event in (first, second, first):
        post(collector, event)
    group = collector.store.get_group(1)
    assert group is not None and group["occurrences"] == 3


def test_fingerprints_are_per_project(collector: RecordingCollector) -> None:
    _, one = post(collector, make_event())
    _, other = post(collector, make_event(project_key="pk_live_other"))
    assert one["error_id"] != other["error_id"]
    assert other["created"] is True


def _without(field: str) -> Dict[str, Any]:
    event = make_event()
    del event[field]
    return event


INVALID = [
    (make_event(event_id=""), "invalid event_id"),
    (make_event(event_id="e" * 129), "invalid event_id"),
    (make_event(event_id=7), "invalid event_id"),
    (make_event(project_key="pk_prod_abc"), "invalid project_key"),
    (make_event(project_key="pk_test_"), "invalid project_key"),
    (make_event(project_key="pk_test_a b"), "invalid project_key"),
    (make_event(project_key="pk_test_" + "a" * 129), "invalid project_key"),
    (make_event(fingerprint=""), "invalid fingerprint"),
    (make_event(fingerprint="has space"), "invalid fingerprint"),
    (make_event(fingerprint="f" * 257), "invalid fingerprint"),
    (make_event(fingerprint=123), "invalid fingerprint"),
    (make_event(type="T" * 257), "invalid type"),
    (make_event(type=None), "invalid type"),
    (make_event(message="m" * 4097), "invalid message"),
    (make_event(stack={"file": "a.py"}), "invalid stack"),
    (make_event(code_context=["a.py"]), "invalid code_context"),
    (make_event(runtime="r" * 65), "invalid runtime"),
    (make_event(manual_report="false"), "invalid manual_report"),
    (make_event(manual_report=0), "invalid manual_report"),
    (make_event(level="debug"), "invalid level"),
    (make_event(level="ERROR"), "invalid level"),
    (make_event(level=None), "invalid level"),
    (make_event(occurred_at="t" * 65), "invalid occurred_at"),
    (make_event(occurred_at=1714400521), "invalid occurred_at"),
    (_without("stack"), "invalid stack"),
    (_without("manual_report"), "invalid manual_report"),
]


@pytest.mark.parametrize(("event", "error"), INVALID, ids=[error for _, error in INVALID])
def test_invalid_fields_are_400(
    collector: RecordingCollector, event: Dict[str, Any], error: str
) -> None:
    assert post(collector, event) == (400, {"error": error})
    assert collector.store.list_groups() == []


def test_limits_are_inclusive(collector: RecordingCollector) -> None:
    event = make_event(
        event_id="e" * 128,
        project_key="pk_test_" + "a" * 128,
        fingerprint="f" * 256,
        type="T" * 256,
        message="m" * 4096,
        runtime="r" * 64,
        occurred_at="t" * 64,
        level="warning",
        code_context=None,
    )
    assert post(collector, event)[0] == 200


@pytest.mark.parametrize(
    "body", [b"{nope", b"", b"[]", b'"text"', b"null", b'{"a": NaN}', b"\xff\xfe{}", b"[" * 5000]
)
def test_bad_json_is_400(collector: RecordingCollector, body: bytes) -> None:
    assert post(collector, body) == (400, {"error": "invalid json"})


def test_key_header_must_match_body(collector: RecordingCollector) -> None:
    mismatch = {"x-pixel-key": "pk_test_someone_else"}
    assert post(collector, make_event(), mismatch) == (400, {"error": "project_key mismatch"})
    assert post(collector, make_event(), {"x-pixel-key": "pk_test_abc123"})[0] == 200


def test_unknown_key_is_401_when_keys_are_given() -> None:
    with Collector(keys=["pk_test_known"]) as server:
        assert post(server, make_event()) == (401, {"error": "unknown project_key"})
        assert post(server, make_event(project_key="pk_test_known"))[0] == 200
        _, project, _ = call(server, "POST", "/api/projects", {"name": "shop"})
        assert post(server, make_event(project_key=project["key"]))[0] == 200


def test_body_of_exactly_the_cap_is_accepted(collector: RecordingCollector) -> None:
    assert post(collector, sized_event(MAX_BODY_CHARS))[0] == 200


def test_body_over_the_cap_is_413(collector: RecordingCollector) -> None:
    assert post(collector, sized_event(MAX_BODY_CHARS + 1)) == (413, {"error": "payload too large"})
    assert collector.received[-1][:2] == (413, None)
    assert collector.store.list_groups() == []


def test_oversize_is_refused_from_content_length_before_the_body(
    collector: RecordingCollector,
) -> None:
    headers = b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    answer = raw_exchange(collector, headers)  # no body sent: must answer and close anyway
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"error": "payload too large"}')


def test_expect_continue_oversize_is_refused(collector: RecordingCollector) -> None:
    request = (
        b"POST /ingest HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 70000\r\n\r\n"
    )
    assert raw_exchange(collector, request).startswith(b"HTTP/1.1 413 ")


def test_missing_or_bad_content_length(collector: RecordingCollector) -> None:
    missing = raw_exchange(
        collector, b"POST /ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert missing.startswith(b"HTTP/1.1 411 ")
    bad = raw_exchange(collector, b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400 ")
    assert b'"invalid content-length"' in bad


def test_fingerprint_cap_is_429_for_new_fingerprints_only() -> None:
    with Collector(fingerprint_cap=2) as server:
        assert post(server, make_event(fingerprint="a"))[0] == 200
        assert post(server, make_event(fingerprint="b"))[0] == 200
        refused = post(server, make_event(fingerprint="c"))
        assert refused == (429, {"error": "project fingerprint cap reached"})
        status, known = post(server, make_event(fingerprint="a"))
        assert (status, known["created"]) == (200, False)
        assert post(server, make_event(fingerprint="c", project_key="pk_test_other"))[0] == 200


def test_resolved_group_recurs_and_reopens(collector: RecordingCollector) -> None:
    post(collector, make_event())
    assert collector.store.resolve(1)
    assert collector.store.get_group(1)["resolved"] is True  # type: ignore[index]
    status, answer = post(collector, make_event())
    assert (status, answer) == (200, {"error_id": 1, "created": False, "recurred": True})
    group = collector.store.get_group(1)
    assert group is not None
    assert (group["resolved"], group["recurrence_count"], group["occurrences"]) == (False, 1, 2)
    assert post(collector, make_event())[1]["recurred"] is False
    assert collector.store.resolve(99) is False


def test_resolve_endpoint(collector: RecordingCollector) -> None:
    post(collector, make_event())
    status, answer, _ = call(collector, "POST", "/api/errors/1/resolve", b"")
    assert (status, answer) == (200, {"error_id": 1, "resolved": True})
    assert post(collector, make_event())[1]["recurred"] is True
    assert call(collector, "POST", "/api/errors/9/resolve", b"")[0] == 404


# -- read API and routing --------------------------------------------------------------


def test_list_errors_newest_first_with_filters(collector: RecordingCollector) -> None:
    post(collector, make_event(fingerprint="first"))
    post(collector, make_event(fingerprint="second", project_key="pk_test_other"))
    post(collector, make_event(fingerprint="third"))
    post(collector, make_event(fingerprint="first"))  # seen again: now the newest
    status, groups, _ = call(collector, "GET", "/api/errors")
    assert status == 200
    assert [g["fingerprint"] for g in groups] == ["first", "third", "second"]
    _, mine, _ = call(collector, "GET", "/api/errors?project_key=pk_test_abc123")
    assert [g["fingerprint"] for g in mine] == ["first", "third"]
    _, one, _ = call(collector, "GET", "/api/errors?limit=1")
    assert [g["fingerprint"] for g in one] == ["first"]
    assert call(collector, "GET", "/api/errors?limit=0")[:2] == (400, {"error": "invalid limit"})


def test_get_one_error(collector: RecordingCollector) -> None:
    post(collector, make_event(context={"order": 7}))
    status, group, _ = call(collector, "GET", "/api/errors/1")
    assert status == 200
    assert group["stack"][0] == make_event()["stack"][0]
    assert group["code_context"]["start_line"] == 40
    assert group["extra"] == {"context": {"order": 7}}
    assert call(collector, "GET", "/api/errors/2")[:2] == (404, {"error": "error not found"})
    assert call(collector, "GET", "/api/errors/abc")[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/ingest", 405),
        ("PUT", "/ingest", 405),
        ("POST", "/api/errors", 405),
        ("DELETE", "/api/errors/1", 405),
        ("GET", "/api/projects", 405),
        ("GET", "/", 404),
        ("POST", "/ingest/", 404),
        ("GET", "/nope", 404),
    ],
)
def test_routing_errors_are_json(
    collector: RecordingCollector, method: str, path: str, status: int
) -> None:
    got, answer, _ = call(collector, method, path, b"{}" if method != "GET" else None)
    assert got == status
    assert set(answer) == {"error"}


def test_head_gets_405_without_body(collector: RecordingCollector) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=5)
    conn.request("HEAD", "/ingest")
    response = conn.getresponse()
    assert (response.status, response.read()) == (405, b"")
    conn.close()


@pytest.mark.parametrize("line", [b"GARBAGE", b"POST /ingest HTTP/9.9", b"GET / HTTP/1.1 x"])
def test_malformed_request_line_gets_json(collector: RecordingCollector, line: bytes) -> None:
    answer = raw_exchange(collector, line + b"\r\n\r\n")
    assert answer.split(b" ")[1] in (b"400", b"505")
    assert b"content-type: application/json" in answer.lower()
    assert answer.endswith(b"}")


def test_keep_alive_serves_many_requests_on_one_connection(collector: RecordingCollector) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=5)
    try:
        for _ in range(3):
            status, _, response = call(collector, "POST", "/ingest", make_event(), conn=conn)
            assert status == 200 and not response.will_close
        local_port = conn.sock.getsockname()[1]
        assert call(collector, "GET", "/api/errors", conn=conn)[0] == 200
        assert conn.sock.getsockname()[1] == local_port
    finally:
        conn.close()


def test_create_project(collector: RecordingCollector) -> None:
    status, project, _ = call(collector, "POST", "/api/projects", {"name": "shop"})
    assert status == 201
    assert set(project) == {"id", "key", "secret"}
    assert PROJECT_KEY_RE.match(project["key"]) and project["key"].startswith("pk_test_")
    again = call(collector, "POST", "/api/projects", {"name": "shop"})
    assert again[:2] == (200, project)
    assert call(collector, "POST", "/api/projects", {"name": ""})[:2] == (
        400,
        {"error": "invalid name"},
    )
    assert call(collector, "POST", "/api/projects", b"nope")[:2] == (400, {"error": "invalid json"})


# -- robustness ------------------------------------------------------------------------


def test_slow_client_does_not_stall_others(collector: RecordingCollector) -> None:
    with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as slow:
        slow.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Le")
        started = time.monotonic()
        assert post(collector, make_event())[0] == 200
        assert time.monotonic() - started < 2


def test_slow_client_is_dropped_after_the_timeout() -> None:
    with Collector(timeout=0.2) as server, socket.create_connection(
        ("127.0.0.1", server.port), timeout=5
    ) as slow:
        slow.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\n")
        assert slow.recv(1024) == b""  # closed by the server well before our 5 s timeout


def test_concurrent_senders_are_all_stored(collector: RecordingCollector) -> None:
    threads, per_thread, fingerprints = 8, 50, 4
    failures: List[Any] = []

    def send(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
        try:
            for i in range(per_thread):
                event = make_event(fingerprint=f"fp{(worker + i) % fingerprints}")
                status, answer, _ = call(collector, "POST", "/ingest", event, conn=conn)
                if status != 200:
                    failures.append((status, answer))
        finally:
            conn.close()

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert len(collector.wait_for(threads * per_thread)) == threads * per_thread
    groups = collector.store.list_groups()
    assert len(groups) == fingerprints
    assert sorted(g["occurrences"] for g in groups) == [100] * fingerprints


def test_stop_closes_keep_alive_connections() -> None:
    server = Collector().start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert call(server, "POST", "/ingest", make_event(), conn=conn)[0] == 200
    server.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        call(server, "POST", "/ingest", make_event(), conn=conn)
    conn.close()
    assert server.store.get_group(1) is not None  # the store outlives the server


# -- recording and echo ----------------------------------------------------------------


def test_received_records_every_ingest(collector: RecordingCollector) -> None:
    good = make_event()
    post(collector, good, {"x-pixel-key": "pk_test_abc123", "user-agent": "ez-pixel-test/1"})
    post(collector, make_event(level="debug"))
    post(collector, b"{broken")
    statuses = [status for status, _, _ in collector.received]
    assert statuses == [200, 400, 400]
    _, body, headers = collector.received[0]
    assert body == good
    assert headers["x-pixel-key"] == "pk_test_abc123"
    assert headers["user-agent"] == "ez-pixel-test/1"
    assert headers["content-type"] == "application/json"
    assert collector.received[1][1]["level"] == "debug"
    assert collector.received[2][1] is None
    assert collector.wait_for(1) == [good]


def test_wait_for_predicate_and_timeout(collector: RecordingCollector) -> None:
    sender = threading.Thread(target=post, args=(collector, make_event(message="late")))
    sender.start()
    bodies = collector.wait_for(lambda got: any(b["message"] == "late" for b in got), timeout=5)
    sender.join()
    assert bodies[0]["message"] == "late"
    with pytest.raises(WaitTimeout):
        collector.wait_for(2, timeout=0.05)


def test_echo_prints_one_clean_line_per_event() -> None:
    out = io.StringIO()
    with Collector(echo=out) as server:
        library = {"file": "lib/x.py", "line": 3, "col": 1, "fn": "g", "in_app": False}
        event = make_event(message="bad \x1b[2J\nthing", stack=[library, *make_event()["stack"]])
        post(server, event)
        post(server, make_event(fingerprint="f2", event_id=event["event_id"]))
        post(server, make_event(level="nope"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "error" in lines[0] and "ValueError: bad \\x1b[2J\\nthing" in lines[0]
    assert "at app/views.py:42" in lines[0] and "(new)" in lines[0]
    assert "\x1b" not in out.getvalue()
    assert "rejected 400: invalid level" in lines[2]


# -- store -----------------------------------------------------------------------------


def test_store_persists_in_a_file(tmp_path: Any) -> None:
    path = str(tmp_path / "pixel.db")
    store = ErrorStore(path)
    assert store.ingest(make_event())[0] == 200
    assert store.ingest(make_event(level="debug")) == (400, {"error": "invalid level"})
    store.close()
    reopened = ErrorStore(path)
    assert [g["occurrences"] for g in reopened.list_groups()] == [1]
    assert reopened.ingest(make_event())[1]["created"] is False
    reopened.close()


def test_code_context_without_start_line_is_centred() -> None:
    lines = render_code_context({"file": "a.py", "error_line": 10, "lines": ["a", "b", "c"]})
    assert lines == ["   9 | a", "> 10 | b", "  11 | c"]


# -- CLI -------------------------------------------------------------------------------


def _seed(server: Collector) -> None:
    library = {"file": "site-packages/lib.py", "line": 7, "col": 0, "fn": "call", "in_app": False}
    post(server, make_event(stack=[library, *make_event()["stack"]]))
    post(server, make_event(fingerprint="beef", type="KeyError", message="'k'\x1b[31m", stack=[]))
    post(server, make_event(fingerprint="beef", type="KeyError", message="'k'\x1b[31m", stack=[]))


def test_cli_errors_table(collector: RecordingCollector, capsys: Any) -> None:
    _seed(collector)
    assert main(["errors", "--url", collector.url]) == 0
    out = capsys.readouterr().out
    header, newest, oldest = out.splitlines()
    assert header.split() == ["ID", "LEVEL", "TYPE", "MESSAGE", "LOCATION", "COUNT", "LAST", "SEEN"]
    assert newest.split()[:3] == ["2", "error", "KeyError"]
    assert "'k'\\x1b[31m" in newest and "\x1b" not in out
    assert newest.split()[-3] == "2"
    assert "app/views.py:42" in oldest  # innermost in-app frame, not the library one
    assert header.index("LOCATION") == oldest.index("app/views.py:42")
    assert main(["errors", "--url", collector.url, "--project-key", "pk_test_none"]) == 0
    assert capsys.readouterr().out.strip() == "No errors recorded."


def test_cli_show(collector: RecordingCollector, capsys: Any) -> None:
    _seed(collector)
    assert main(["show", "1", "--url", collector.ingest_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ValueError: invalid literal for int() with base 10: 'x'"
    assert lines[1] == "  at app/views.py:42"
    assert "> 42 |     return int(qty)" in lines
    assert "  40 | def parse_qty(text):" in lines
    stack = lines[lines.index("Stack (innermost first):") + 1 :]
    assert stack[:3] == [
        "  site-packages/lib.py:7 in call  [library]",
        "  app/views.py:42 in parse_qty",
        "  app/main.py:10 in handle",
    ]
    assert main(["show", "2", "--url", collector.url]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_cli_show_json_and_db(collector: RecordingCollector, capsys: Any, tmp_path: Any) -> None:
    _seed(collector)
    assert main(["show", "1", "--url", collector.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == "0123456789abcdef"
    path = str(tmp_path / "pixel.db")
    store = ErrorStore(path)
    store.ingest(make_event())
    store.close()
    assert main(["errors", "--db", path]) == 0
    assert "app/views.py:42" in capsys.readouterr().out
    assert main(["show", "1", "--db", path]) == 0
    assert capsys.readouterr().out.startswith("ValueError: ")


def test_cli_failures(collector: RecordingCollector, capsys: Any) -> None:
    assert main(["show", "5", "--url", collector.url]) == 1
    assert capsys.readouterr().err.strip() == "ez-pixel: no error group with id 5"
    dead = Collector().start()
    dead.stop()
    assert main(["errors", "--url", dead.url]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot reach the collector" in err
    assert main(["errors", "--db", "/nonexistent/pixel.db"]) == 1
    assert main(["show"]) == 2
    assert main(["serve", "--keys", "not-a-key"]) == 2
    assert main([]) == 2
    assert main(["errors", "--url", "ftp://x"]) == 2


def _run_cli(*args: str, **kwargs: Any) -> "subprocess.Popen[str]":
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "ez_pixel.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def test_cli_as_a_subprocess(collector: RecordingCollector) -> None:
    _seed(collector)
    listing = _run_cli("errors", "--url", collector.url)
    out, err = listing.communicate(timeout=15)
    assert (listing.returncode, err) == (0, "")
    assert "KeyError" in out and "app/views.py:42" in out
    missing = _run_cli("show", "42", "--url", collector.url)
    out, err = missing.communicate(timeout=15)
    assert missing.returncode == 1 and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_cli_serve_streams_events_and_exits_cleanly(tmp_path: Any) -> None:
    db = str(tmp_path / "served.db")
    proc = _run_cli("serve", "--port", "0", "--db", db)
    killer = threading.Timer(15, proc.kill)
    killer.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("ez-pixel collector listening on http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        banner = [proc.stdout.readline() for _ in range(4)]
        assert f"ingest URL: http://127.0.0.1:{port}/ingest" in banner[0]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/ingest", json.dumps(make_event()).encode())
        assert conn.getresponse().status == 200
        conn.close()
        line = proc.stdout.readline()
        assert "ValueError" in line and "app/views.py:42" in line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "Traceback" not in err
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    store = ErrorStore(db)
    assert len(store.list_groups()) == 1
    store.close()
