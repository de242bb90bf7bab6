"""The local collector's ingest, projects and management API, over real HTTP.

The recorded side-by-side check against the hosted server is
``test_server_twin.py``; these tests name each rule on its own, with raw
sockets where the request itself is malformed.
"""

import http.client
import io
import json
import re
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import make_event

from ez_pixel.collector import Collector, ErrorStore
from ez_pixel.contract import MAX_BODY_CHARS
from ez_pixel.testing import RecordingCollector, WaitTimeout

KEY = "pk_test_abc123"
ERR_ID = re.compile(r"^err_[0-9a-f]{32}$")
EMOJI = "\U0001f600"


def call(
    server: Collector,
    method: str,
    path: str,
    body: Any = None,
    headers: Optional[Dict[str, str]] = None,
    conn: Optional[http.client.HTTPConnection] = None,
) -> Tuple[int, Any, http.client.HTTPResponse]:
    """One request; ``body`` is JSON-encoded unless bytes. Returns (status, JSON or text, resp)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    try:
        conn.request(method, path, data, {"content-type": "application/json", **(headers or {})})
        response = conn.getresponse()
        raw = response.read()
    finally:
        if own:
            conn.close()
    if response.getheader("content-type") == "application/json" and raw:
        return response.status, json.loads(raw), response
    return response.status, raw.decode(), response


def post(server: Collector, body: Any, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    """POST to /ingest and return (status, answer)."""
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


def raw_post(server: Collector, body: bytes, extra: bytes = b"") -> bytes:
    """POST ``body`` to /ingest over a raw socket with a Content-Length."""
    head = b"POST /ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra
    return raw_exchange(server, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def sized_event(units: int, pad: str = "x", pad_units: int = 1) -> str:
    """A valid event whose JSON text is exactly ``units`` UTF-16 code units long."""
    base = json.dumps(make_event(padding=""), ensure_ascii=False)
    count, rest = divmod(units - len(base), pad_units)
    text = json.dumps(make_event(padding=pad * count + "a" * rest), ensure_ascii=False)
    assert len(text) + text.count(EMOJI) == units
    return text


def api(server: Collector, method: str, path: str, body: Any = None, key: str = KEY) -> Any:
    """A management call as the project using ``key``; returns (status, answer)."""
    secret = server.store.ensure_key(key)["secret"]
    status, answer, _ = call(server, method, path, body, {"authorization": f"Bearer {secret}"})
    return status, answer


def project_id(server: Collector, key: str = KEY) -> str:
    """The id of the project using ``key``."""
    return str(server.store.ensure_key(key)["id"])


# -- answers ---------------------------------------------------------------------------


def test_valid_event_is_created_with_a_server_style_id(collector: RecordingCollector) -> None:
    status, answer = post(collector, make_event())
    assert status == 200 and ERR_ID.match(answer["error_id"])
    assert answer == {"error_id": answer["error_id"], "created": True, "recurred": False}
    status, row = api(collector, "GET", f"/api/errors/{answer['error_id']}")
    assert status == 200 and row["occurrences"] == 1 and row["status"] == "open"
    assert json.loads(row["stack"])[0]["file"] == "app/views.py"
    assert json.loads(row["code_context"])["error_line"] == 42


def test_same_fingerprint_bumps_and_keeps_only_what_the_server_keeps(
    collector: RecordingCollector,
) -> None:
    _, first = post(collector, make_event())
    newer = make_event(
        message="newer",
        level="fatal",
        type="KeyError",
        code_context=None,
        stack=[{"file": "b.py", "line": 1.0}],
        context={"user": "u1"},
    )
    status, answer = post(collector, newer)
    assert (status, answer) == (
        200,
        {"error_id": first["error_id"], "created": False, "recurred": False},
    )
    _, row = api(collector, "GET", f"/api/errors/{first['error_id']}")
    assert (row["occurrences"], row["last_event_id"]) == (2, newer["event_id"])
    assert (row["message"], row["type"], row["code_context"]) == ("newer", "KeyError", None)
    assert row["stack"] == '[{"file":"b.py","line":1}]'  # re-encoded as JSON.stringify does
    assert "level" not in row and "u1" not in json.dumps(row)  # the server drops them
    assert row["last_seen_at"] >= row["first_seen_at"]


def test_same_event_id_is_a_duplicate_only_against_the_last_event(
    collector: RecordingCollector,
) -> None:
    first, second = make_event(), make_event()
    _, answer = post(collector, first)
    assert post(collector, first) == (200, {"error_id": answer["error_id"], "duplicate": True})
    post(collector, second)
    assert post(collector, first)[1]["created"] is False  # not the last one: counted
    _, row = api(collector, "GET", f"/api/errors/{answer['error_id']}")
    assert row["occurrences"] == 3


def test_fingerprints_are_per_project(collector: RecordingCollector) -> None:
    _, one = post(collector, make_event())
    _, other = post(collector, make_event(project_key="pk_live_other"))
    assert one["error_id"] != other["error_id"] and other["created"] is True


def _without(field: str) -> Dict[str, Any]:
    event = make_event()
    del event[field]
    return event


INVALID = [
    (make_event(event_id=""), "invalid event_id"),
    (make_event(event_id="e" * 129), "event_id too long"),
    (make_event(event_id=EMOJI * 64 + "e"), "event_id too long"),
    (make_event(project_key="pk_prod_abc"), "invalid project_key"),
    (make_event(project_key="pk_test_abc\n"), "invalid project_key"),
    (make_event(fingerprint="f" * 257), "invalid fingerprint"),
    (make_event(fingerprint="abc\n"), "invalid fingerprint"),
    (make_event(type=EMOJI * 128 + "T"), "invalid type"),
    (make_event(message=EMOJI * 2049), "invalid message"),
    (make_event(runtime="r" * 65), "invalid runtime"),
    (make_event(manual_report=0), "invalid manual_report"),
    (make_event(level="ERROR"), "invalid level"),
    (make_event(occurred_at=1714400521), "invalid occurred_at"),
    (_without("manual_report"), "invalid manual_report"),
]


@pytest.mark.parametrize(("event", "error"), INVALID, ids=[error for _, error in INVALID])
def test_invalid_fields_get_the_servers_400(
    collector: RecordingCollector, event: Dict[str, Any], error: str
) -> None:
    assert post(collector, event) == (400, {"error": error})
    assert collector.store.list_errors(project_id(collector)) == []


def test_limits_are_utf16_units_and_inclusive(collector: RecordingCollector) -> None:
    event = make_event(
        event_id=EMOJI * 64,
        type=EMOJI * 128,
        message=EMOJI * 2048,
        runtime="r" * 64,
        occurred_at="t" * 64,
        fingerprint="f" * 256,
    )
    assert post(collector, event)[0] == 200


def test_stack_and_code_context_are_not_checked(collector: RecordingCollector) -> None:
    assert post(collector, _without("stack"))[0] == 200
    assert post(collector, make_event(fingerprint="b", stack="text", code_context=5))[0] == 200


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{nope", "invalid json"),
        (b"", "invalid json"),
        (b'{"a": NaN}', "invalid json"),
        (b"null", "invalid body"),
        (b'"text"', "invalid body"),
        (b"[]", "invalid event_id"),
        (b"[" * 5000 + b"]" * 5000, "invalid event_id"),
    ],
)
def test_bad_bodies_get_the_servers_400(
    collector: RecordingCollector, body: bytes, error: str
) -> None:
    assert post(collector, body) == (400, {"error": error})


def test_key_header_must_match_body_unless_empty(collector: RecordingCollector) -> None:
    mismatch = {"x-pixel-key": "pk_test_someone_else"}
    assert post(collector, make_event(), mismatch) == (400, {"error": "project_key mismatch"})
    assert post(collector, make_event(), {"x-pixel-key": KEY})[0] == 200
    assert post(collector, make_event(), {"x-pixel-key": ""})[0] == 200


def test_unknown_key_is_401() -> None:
    with Collector(keys=["pk_test_known"]) as server:
        assert post(server, make_event()) == (401, {"error": "unknown project_key"})
        assert post(server, make_event(project_key="pk_test_known"))[0] == 200
        _, project, _ = call(server, "POST", "/api/projects", {"name": "shop"})
        assert post(server, make_event(project_key=project["key"]))[0] == 200


def test_body_cap_counts_decoded_utf16_units(collector: RecordingCollector) -> None:
    assert post(collector, sized_event(MAX_BODY_CHARS).encode())[0] == 200
    too_big = sized_event(MAX_BODY_CHARS + 1).encode()
    assert post(collector, too_big) == (413, {"error": "payload too large"})
    assert collector.received[-1][:2] == (413, None)
    accented = sized_event(50_000, "\u00e9").encode()  # ~99,900 bytes, 50,000 units
    assert len(accented) > 90_000 and post(collector, accented)[0] == 200
    assert post(collector, sized_event(MAX_BODY_CHARS, EMOJI, 2).encode())[0] == 200
    assert post(collector, sized_event(MAX_BODY_CHARS + 1, EMOJI, 2).encode())[0] == 413


def test_oversize_is_refused_from_content_length_before_the_body(
    collector: RecordingCollector,
) -> None:
    headers = b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    answer = raw_exchange(collector, headers)  # no body sent: must answer and close anyway
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"error":"payload too large"}')


def test_expect_continue_oversize_is_refused(collector: RecordingCollector) -> None:
    request = (
        b"POST /ingest HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 7000000\r\n\r\n"
    )
    assert raw_exchange(collector, request).startswith(b"HTTP/1.1 413 ")


def test_encodings_the_server_accepts(collector: RecordingCollector) -> None:
    body = json.dumps(make_event(fingerprint="bom")).encode()
    assert raw_post(collector, b"\xef\xbb\xbf" + body).startswith(b"HTTP/1.1 200 ")
    assert b'"invalid json"' in raw_post(collector, b"\xef\xbb\xbf" * 3 + body)
    bad_utf8 = json.dumps(make_event(fingerprint="bad", message="A-B")).encode()
    assert raw_post(collector, bad_utf8.replace(b"A-B", b"A\xffB")).startswith(b"HTTP/1.1 200 ")
    chunked = json.dumps(make_event(fingerprint="chunked")).encode()
    request = (
        b"POST /ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (10, chunked[:10])
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunked) - 10, chunked[10:])
    )
    assert raw_exchange(collector, request).startswith(b"HTTP/1.1 200 ")
    no_length = raw_exchange(
        collector, b"POST /ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert no_length.startswith(b"HTTP/1.1 400 ") and no_length.endswith(b'"invalid json"}')
    _, rows = api(collector, "GET", f"/api/projects/{project_id(collector)}/errors")
    assert sorted(r["fingerprint"] for r in rows["errors"]) == ["bad", "bom", "chunked"]
    assert next(r for r in rows["errors"] if r["fingerprint"] == "bad")["message"] == "A\ufffdB"


def test_lone_surrogates_are_stored_as_the_server_stores_them(
    collector: RecordingCollector,
) -> None:
    body = (
        json.dumps(make_event(fingerprint="sur"))
        .replace('"message": "invalid', '"message": "\\ud800 invalid')
        .replace('"stack": [', '"stack": ["\\udc00", ')
    )
    status, answer = post(collector, body.encode())
    assert status == 200
    _, row = api(collector, "GET", f"/api/errors/{answer['error_id']}")
    assert row["message"].startswith("\ufffd\ufffd\ufffd invalid")
    assert row["stack"].startswith('["\\udc00",')


def test_a_stack_too_deep_for_the_servers_json_stringify_is_500(
    collector: RecordingCollector,
) -> None:
    body = json.dumps(make_event(stack=[])).replace(
        '"stack": []', '"stack": ' + "[" * 6000 + "]" * 6000
    )
    status, answer, response = call(collector, "POST", "/ingest", body.encode())
    assert (status, answer) == (500, "Internal Server Error")
    assert response.getheader("access-control-allow-origin") == "*"


def test_fingerprint_cap_is_429_for_new_fingerprints_only() -> None:
    with RecordingCollector(fingerprint_cap=2) as server:
        assert post(server, make_event(fingerprint="a"))[0] == 200
        assert post(server, make_event(fingerprint="b"))[0] == 200
        status, answer, response = call(server, "POST", "/ingest", make_event(fingerprint="c"))
        assert (status, answer) == (429, {"error": "project fingerprint cap reached"})
        assert response.getheader("retry-after") is None
        status, known = post(server, make_event(fingerprint="a"))
        assert (status, known["created"]) == (200, False)
        assert post(server, make_event(fingerprint="c", project_key="pk_test_other"))[0] == 200


def test_merged_group_recurs_and_reopens(collector: RecordingCollector) -> None:
    _, first = post(collector, make_event())
    error = f"/api/errors/{first['error_id']}"
    status, row = api(collector, "PATCH", error, {"status": "merged"})
    assert (status, row["status"]) == (200, "merged") and row["merged_at"] is not None
    assert post(collector, make_event())[1] == {
        "error_id": first["error_id"],
        "created": False,
        "recurred": True,
    }
    _, row = api(collector, "GET", error)
    assert (row["status"], row["recurrence_count"], row["occurrences"]) == ("open", 1, 2)
    assert post(collector, make_event())[1]["recurred"] is False
    api(collector, "PATCH", error, {"status": "failed"})
    assert post(collector, make_event())[1]["recurred"] is False  # only merged recurs


# -- routes, CORS, health ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ingest"),
        ("PUT", "/ingest"),
        ("GET", "/api/projects"),
        ("POST", "/health"),
        ("GET", "/"),
        ("POST", "/ingest/"),
        ("GET", "/api/errors"),
        ("BREW", "/ingest"),
    ],
)
def test_unknown_routes_are_the_servers_plain_404(
    collector: RecordingCollector, method: str, path: str
) -> None:
    status, answer, response = call(collector, method, path, b"{}")
    assert (status, answer) == (404, "404 Not Found")
    assert response.getheader("content-type") == "text/plain; charset=UTF-8"


def test_health_and_head(collector: RecordingCollector) -> None:
    assert call(collector, "GET", "/health")[:2] == (200, {"ok": True})
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=5)
    conn.request("HEAD", "/health")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"")
    conn.close()


def test_cors_preflight_and_header(collector: RecordingCollector) -> None:
    origin = {"origin": "http://shop.test", "access-control-request-method": "POST"}
    status, body, response = call(collector, "OPTIONS", "/ingest", None, origin)
    assert (status, body) == (204, "")
    assert response.getheader("access-control-allow-origin") == "*"
    assert response.getheader("access-control-allow-methods") == "POST,OPTIONS"
    assert response.getheader("access-control-allow-headers") == "content-type,x-pixel-key"
    assert response.getheader("access-control-max-age") == "86400"
    assert (
        call(collector, "POST", "/ingest", make_event(), origin)[2].getheader(
            "access-control-allow-origin"
        )
        == "*"
    )
    assert (
        call(collector, "GET", "/health", None, origin)[2].getheader("access-control-allow-origin")
        is None
    )


@pytest.mark.parametrize("line", [b"GARBAGE", b"POST /ingest HTTP/9.9", b"GET / HTTP/1.1 x"])
def test_malformed_request_line_gets_an_answer(collector: RecordingCollector, line: bytes) -> None:
    answer = raw_exchange(collector, line + b"\r\n\r\n")
    assert answer.split(b" ")[1] in (b"400", b"505")
    assert answer.endswith(b"}")


def test_keep_alive_serves_many_requests_on_one_connection(collector: RecordingCollector) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=5)
    try:
        for _ in range(3):
            status, _, response = call(collector, "POST", "/ingest", make_event(), conn=conn)
            assert status == 200 and not response.will_close
        local_port = conn.sock.getsockname()[1]
        assert call(collector, "GET", "/health", conn=conn)[0] == 200
        assert conn.sock.getsockname()[1] == local_port
    finally:
        conn.close()


# -- projects and the management API ---------------------------------------------------


def test_create_project_as_the_server_does(collector: RecordingCollector) -> None:
    status, project, _ = call(collector, "POST", "/api/projects", {"name": "  shop "})
    assert status == 201 and project["name"] == "shop"
    assert re.match(r"^proj_[0-9a-f]{32}$", project["id"])
    assert re.match(r"^pk_live_[0-9a-f]{32}$", project["key"])
    assert re.match(r"^sk_live_[0-9a-f]{64}$", project["secret"])
    again = call(collector, "POST", "/api/projects", {"name": "shop"})[1]
    assert again["id"] != project["id"]  # the server makes a new project every time
    assert call(collector, "POST", "/api/projects", {"name": ""})[:2] == (
        400,
        {"error": "name is required"},
    )
    assert call(collector, "POST", "/api/projects", {"name": EMOJI * 51})[:2] == (
        400,
        {"error": "name too long"},
    )
    assert call(collector, "POST", "/api/projects", b"null")[:2] == (500, "Internal Server Error")


def test_management_auth(collector: RecordingCollector) -> None:
    post(collector, make_event())
    path = f"/api/projects/{project_id(collector)}/errors"
    assert call(collector, "GET", path)[:2] == (401, {"error": "missing or invalid Authorization"})
    unknown = {"authorization": "Bearer sk_live_" + "0" * 64}
    assert call(collector, "GET", path, None, unknown)[:2] == (401, {"error": "invalid secret"})
    other = "pk_test_other"
    assert api(collector, "GET", path, key=other) == (403, {"error": "forbidden"})
    error_id = api(collector, "GET", path)[1]["errors"][0]["id"]
    assert api(collector, "GET", f"/api/errors/{error_id}", key=other) == (
        403,
        {"error": "forbidden"},
    )
    assert api(collector, "DELETE", f"/api/errors/{error_id}", key=other)[0] == 403
    assert api(collector, "GET", "/api/errors/err_" + "0" * 32) == (404, {"error": "not found"})


def test_list_filters_by_status_newest_first(collector: RecordingCollector) -> None:
    for fingerprint in ("first", "second", "third"):
        post(collector, make_event(fingerprint=fingerprint))
        time.sleep(0.002)  # distinct milliseconds, so the order is defined
    post(collector, make_event(fingerprint="first"))
    path = f"/api/projects/{project_id(collector)}/errors"
    _, listing = api(collector, "GET", path)
    assert [row["fingerprint"] for row in listing["errors"]] == ["first", "third", "second"]
    api(collector, "PATCH", f"/api/errors/{listing['errors'][1]['id']}", {"status": "merged"})
    _, merged = api(collector, "GET", path + "?status=merged")
    assert [row["fingerprint"] for row in merged["errors"]] == ["third"]
    assert api(collector, "GET", path + "?status=nope") == (400, {"error": "invalid status: nope"})


def test_patch_and_delete(collector: RecordingCollector) -> None:
    _, first = post(collector, make_event())
    error = f"/api/errors/{first['error_id']}"
    status, row = api(collector, "PATCH", error, {"status": "in_progress", "branch": "fix/a"})
    assert (status, row["status"], row["branch"]) == (200, "in_progress", "fix/a")
    assert api(collector, "PATCH", error, {"status": 5}) == (400, {"error": "invalid status: 5"})
    assert api(collector, "PATCH", error, {"status": "awaiting_review"})[1]["fixed_at"] > 0
    assert api(collector, "DELETE", error) == (200, {"deleted": True})
    assert api(collector, "DELETE", error) == (404, {"error": "not found"})
    assert post(collector, make_event())[1]["created"] is True


# -- robustness ------------------------------------------------------------------------


def test_slow_client_does_not_stall_others(collector: RecordingCollector) -> None:
    with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as slow:
        slow.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Le")
        assert post(collector, make_event())[0] == 200


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
    rows = collector.store.list_errors(project_id(collector))
    assert sorted(row["occurrences"] for row in rows) == [100] * fingerprints


def test_stop_closes_keep_alive_connections() -> None:
    server = RecordingCollector().start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert call(server, "POST", "/ingest", make_event(), conn=conn)[0] == 200
    server.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        call(server, "POST", "/ingest", make_event(), conn=conn)
    conn.close()
    assert server.store.list_errors(project_id(server))  # the store outlives the server


# -- recording and echo ----------------------------------------------------------------


def test_received_records_every_ingest(collector: RecordingCollector) -> None:
    good = make_event()
    post(collector, good, {"x-pixel-key": KEY, "user-agent": "ez-pixel-test/1"})
    post(collector, make_event(level="debug"))
    post(collector, b"{broken")
    assert [status for status, _, _ in collector.received] == [200, 400, 400]
    _, body, headers = collector.received[0]
    assert body == good
    assert headers["x-pixel-key"] == KEY and headers["user-agent"] == "ez-pixel-test/1"
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
    with Collector(keys=[KEY], echo=out) as server:
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
    project, created = store.default_project()
    assert created and store.ingest(make_event(project_key=project["key"]))[0] == 200
    store.close()
    reopened = ErrorStore(path)
    assert reopened.default_project() == (project, False)
    assert [row["occurrences"] for row in reopened.list_errors(project["id"])] == [1]
    assert reopened.ingest(make_event(project_key=project["key"]))[1]["created"] is False
    reopened.close()
