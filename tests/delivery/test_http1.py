"""The answers real servers and proxies give, as the SDK's own HTTP/1.1 reading sees them."""

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import RawServer

pytestmark = pytest.mark.usefixtures("closing")

CHUNKED = (
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n"
    b'7\r\n{"error\r\n10;ext=1\r\n_id":1,"created"\r\n6\r\n:true}\r\n0\r\nx-trailer: 1\r\n\r\n'
)


def send(server: RawServer, count: int) -> None:
    ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=2)
    for i in range(count):
        ez_pixel.report_pixel(f"event {i}")
        assert ez_pixel.flush_pixel(10)


@pytest.mark.parametrize(
    ("answer", "connections"),
    [
        (CHUNKED, 1),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", 1),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 1),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 3),
        (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}", 3),
        (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}", 1),
    ],
    ids=["chunked", "100-continue", "204", "connection-close", "http1.0", "http1.0-keep-alive"],
)
def test_every_framing_is_read_and_the_connection_kept_only_when_it_may_be(
    answer: bytes, connections: int
) -> None:
    closes = b"close" in answer.lower() or (b"HTTP/1.0" in answer and b"keep-alive" not in answer)
    with RawServer([(answer, closes)] * 3) as server:
        send(server, 3)
        assert [b["message"] for b in server.bodies()] == ["event 0", "event 1", "event 2"]
        assert server.connections == connections
    stats = ez_pixel.stats()
    assert stats["sent"] == 3 and stats["retried"] == 0 and stats["dropped"] == {}


def test_a_body_framed_by_the_end_of_the_stream_is_read_to_the_end() -> None:
    with RawServer([(b'HTTP/1.1 200 OK\r\n\r\n{"error_id":1}', True)] * 2) as server:
        send(server, 2)
        assert len(server.bodies()) == 2 and server.connections == 2
    assert ez_pixel.stats()["sent"] == 2


@pytest.mark.parametrize(
    "garbage",
    [
        b"hello\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}",  # closed mid-body
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"x-a: b\r\n" * 200 + b"\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\n{}",
        b"HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n" + b"x: 1\r\n" * 200,
        b"HTTP/1.1 100 Continue\r\n\r\n" * 20 + RawServer.OK,
    ],
    ids=[
        "no-status-line",
        "bad-status",
        "short-body",
        "bad-length",
        "bad-chunk",
        "headers",
        "negative-chunk",
        "hex-prefixed-chunk",
        "signed-length",
        "four-digit-status",
        "trailers",
        "interim-answers",
    ],
)
def test_a_malformed_answer_is_a_transient_failure_and_retried(garbage: bytes) -> None:
    with RawServer([(garbage, True)]) as server:
        send(server, 1)
        bodies = server.bodies()
        assert len(bodies) == 2 and bodies[0]["event_id"] == bodies[1]["event_id"]
    stats = ez_pixel.stats()
    assert stats["sent"] == 1 and stats["retried"] == 1 and stats["internal_errors"] == 0


def test_a_rejection_with_a_chunked_body_is_reported_with_its_text(
    capfd: pytest.CaptureFixture[str],
) -> None:
    answer = (
        b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n"
        b'18\r\n{"error":"invalid type"}\r\n0\r\n\r\n'
    )
    with RawServer([(answer, False)]) as server:
        send(server, 1)
        assert len(server.bodies()) == 1
    assert ez_pixel.stats()["dropped"] == {"rejected_400": 1}
    assert '{"error":"invalid type"}' in capfd.readouterr().err


def test_the_fingerprint_cap_drops_that_event_at_once_and_holds_up_nothing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    text = b'{"error": "project fingerprint cap reached"}'
    cap = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: %d\r\n\r\n%s" % (len(text), text)
    with RawServer([(cap, False), (cap, False)]) as server:
        send(server, 3)  # the first two are new groups over the cap; the third lands
        assert [b["message"] for b in server.bodies()] == ["event 0", "event 1", "event 2"]
    stats = ez_pixel.stats()
    assert stats["dropped"] == {"rejected_429": 2} and stats["retried"] == 0
    assert stats["sent"] == 1
    assert capfd.readouterr().err.count("cap of error groups") == 1
