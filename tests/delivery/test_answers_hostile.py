"""Hostile answers: extra, malformed, endless or dripping; each is a failed try, bounded in time.

Raw-socket servers send what no real HTTP server would. Every such answer
must end as a failed try (retried, then counted as dropped), never as an
internal error, never as a stale answer credited to the next event, and
never hold the worker past the exchange's deadline.
"""

import socket
import time
from typing import Callable

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import RawServer

pytestmark = pytest.mark.usefixtures("closing")

OK = RawServer.OK
FAIL = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\n{}"


def test_a_second_answer_to_one_request_is_never_credited_to_the_next_event() -> None:
    with RawServer([(OK + OK, False), (FAIL, False)]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=2)
        ez_pixel.report_pixel("first")
        assert ez_pixel.flush_pixel(10)
        ez_pixel.report_pixel("second")
        assert ez_pixel.flush_pixel(10)
        messages = [b["message"] for b in server.bodies()]
    # The second event got the 500 meant for it, and was sent again.
    assert messages == ["first", "second", "second"]
    stats = ez_pixel.stats()
    assert stats["sent"] == 2 and stats["retried"] == 1 and stats["dropped"] == {}


NEGATIVE_CHUNK = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"


def test_a_malformed_answer_every_time_drops_the_event_after_its_retries() -> None:
    with RawServer([(NEGATIVE_CHUNK, True)] * 3) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=2)
        ez_pixel.report_pixel("never stored")
        assert ez_pixel.flush_pixel(10)  # nothing left pending: the event is accounted for
        assert len(server.bodies()) == 3
    stats = ez_pixel.stats()
    assert stats["sent"] == 0 and stats["retried"] == 2
    assert stats["dropped"] == {"retries_exhausted": 1} and stats["internal_errors"] == 0


def _forever(head: bytes, line: bytes, pause: float = 0.0) -> Callable[[socket.socket], None]:
    """A writer that sends ``head``, then ``line`` again and again (for a minute at most)."""

    def write(conn: socket.socket) -> None:
        conn.sendall(head)
        stop = time.monotonic() + 60
        while time.monotonic() < stop:
            conn.sendall(line)
            if pause:
                time.sleep(pause)  # the server drips; the test waits on flush, not on this

    return write


@pytest.mark.parametrize(
    "writer",
    [
        _forever(b"", b"HTTP/1.1 100 Continue\r\n\r\n"),
        _forever(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n", b"x-t: 1\r\n"),
        _forever(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n", b"x", pause=0.2),
        _forever(b"HTTP/1.1 200 OK\r\n", b"x", pause=0.2),  # a header line dripping
    ],
    ids=["endless-100-continue", "endless-trailers", "dripping-body", "dripping-header"],
)
def test_an_endless_answer_is_a_failed_try_within_the_exchange_deadline(
    writer: Callable[[socket.socket], None],
) -> None:
    with RawServer([(writer, True)] * 2) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=1, read_timeout=1.0)
        ez_pixel.report_pixel("answered for ever")
        assert ez_pixel.flush_pixel(30)
        assert len(server.bodies()) == 2
    stats = ez_pixel.stats()
    assert stats["dropped"] == {"retries_exhausted": 1} and stats["internal_errors"] == 0
