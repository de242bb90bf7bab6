"""One HTTP/1.1 exchange on a kept-alive connection: a request out, its answer in.

urllib3 opens and verifies the connection (see :mod:`ez_pixel._delivery.transport`);
this module writes the request and reads the answer. Going through urllib3's
own request and response objects costs about 240 µs of CPU per event against
a local server (most of it in ``http.client``'s e-mail header parser and
urllib3's response setup), against about 55 µs for this exchange, and the
worker pays it for every event. The ingest server's answers are small JSON documents, so the
reading only needs to be exact, not general: a status line, headers, and a
body framed by ``Content-Length``, chunked encoding, or the end of the stream.
"""

import re
import socket
import time
from typing import Dict, NamedTuple, Optional, Tuple

#: Longest status or header line accepted, and most headers (and trailer lines).
MAX_LINE = 65_536
MAX_HEADERS = 100
#: A head (header lines) found whole in what was already read is at most this long.
MAX_HEAD = 16_384
#: Most interim (``1xx``) answers before the real one.
MAX_INTERIM = 10
#: Bytes of an answer's body kept (for warnings); the rest is read and dropped.
KEEP_BODY = 2048
#: Larger bodies are not read at all: the connection is closed instead.
MAX_BODY = 1 << 20
_RECV = 16_384
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_LENGTH = re.compile(r"[0-9]{1,18}")


class BadAnswer(Exception):
    """The server's answer is not HTTP/1.x framed as the headers say."""


class ClosedBeforeAnswer(BadAnswer):
    """The connection ended before the first byte of an answer.

    On a reused connection this is the server having closed it while idle,
    and one new try on a fresh connection is safe.
    """


class TooSlow(BadAnswer):
    """The exchange ran past its deadline (a server dripping its answer)."""


class Reader:
    """Buffered reads from one socket; every read ends by the exchange's deadline.

    A socket timeout bounds one read; a server sending a byte just before each
    timeout would hold the worker for ever, so each read's timeout is also cut
    to what is left of :attr:`deadline`.
    """

    def __init__(self, sock: socket.socket, read_timeout: float) -> None:
        self._sock = sock
        self._read_timeout = read_timeout
        self._timeout = sock.gettimeout()
        self._buffer = bytearray()
        #: ``time.monotonic()`` by which the current exchange must be over.
        self.deadline = float("inf")

    @property
    def buffered(self) -> int:
        """Bytes received and not yet read: left over from an answer, they were never asked for."""
        return len(self._buffer)

    def limit_socket(self) -> None:
        """Set the socket's timeout for its next operation; :class:`TooSlow` past the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TooSlow("the server took too long over its answer")
        timeout = min(self._read_timeout, remaining)
        if timeout != self._timeout:  # usually read_timeout, already set
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def _fill(self) -> bool:
        self.limit_socket()
        data = self._sock.recv(_RECV)
        self._buffer += data
        return bool(data)

    def readline(self, limit: int = MAX_LINE) -> bytes:
        """A line with its end (shorter at the stream's end), at most ``limit + 1`` bytes."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0 or len(self._buffer) > limit:
                size = min(end + 1 if end >= 0 else len(self._buffer), limit + 1)
                return self._take(size)
            searched = len(self._buffer)
            if not self._fill():
                return self._take(len(self._buffer))

    def read(self, size: int) -> bytes:
        """``size`` bytes, or fewer at the end of the stream."""
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(min(size, len(self._buffer)))

    def buffered_head(self) -> "Optional[bytes]":
        """The header lines up to the blank line, if all of them are already buffered."""
        if self._buffer.startswith(b"\r\n"):
            return self._take(2)
        end = self._buffer.find(b"\r\n\r\n", 0, MAX_HEAD)
        return None if end < 0 else self._take(end + 4)

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class Response(NamedTuple):
    """A parsed answer: status, lower-cased headers, the start of the body."""

    status: int
    headers: Dict[str, str]
    body: bytes
    #: Whether the connection can carry the next request.
    reusable: bool


def request_head(target: str, host: str, headers: Dict[str, str]) -> bytes:
    """The request line and fixed headers of a POST, up to ``content-length: ``."""
    lines = [f"POST {target} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\ncontent-length: ").encode("latin-1")


def request(head: bytes, body: bytes) -> bytes:
    """The whole request: ``head`` from :func:`request_head`, the length, ``body``."""
    return b"%s%d\r\n\r\n%s" % (head, len(body), body)


def read_response(reader: Reader) -> Response:
    """Read one answer from ``reader``, skipping a few interim ``1xx`` answers."""
    first = reader.readline()
    if not first:
        raise ClosedBeforeAnswer("connection closed before an answer")
    for _ in range(MAX_INTERIM + 1):
        version, status = _status_line(first)
        headers = _headers(reader)
        if not 100 <= status < 200:
            break
        first = _line(reader)  # "100 Continue" and the like: the real answer follows
    else:
        raise BadAnswer("too many interim answers")
    tokens = headers.get("connection", "").lower()
    reusable = "close" not in tokens and (version != "HTTP/1.0" or "keep-alive" in tokens)
    if status in (204, 304):
        return Response(status, headers, b"", reusable)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, complete = _chunked(reader)
        return Response(status, headers, body, reusable and complete)
    length = headers.get("content-length")
    if length is None:  # framed by the end of the stream
        return Response(status, headers, reader.read(MAX_BODY)[:KEEP_BODY], False)
    if not _LENGTH.fullmatch(length.strip()):
        raise BadAnswer(f"bad content-length {length[:40]!r}")
    size = int(length)
    if size > MAX_BODY:
        return Response(status, headers, reader.read(KEEP_BODY), False)
    return Response(status, headers, _exactly(reader, size)[:KEEP_BODY], reusable)


def _line(reader: Reader) -> bytes:
    line = reader.readline()
    if not line:
        raise BadAnswer("connection closed mid-answer")
    if len(line) > MAX_LINE:
        raise BadAnswer("line too long")
    return line


def _status_line(line: bytes) -> Tuple[str, int]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not _is_status(parts[1]):
        raise BadAnswer(f"bad status line {line[:80]!r}")
    return parts[0].decode("ascii", "replace"), int(parts[1])


def _is_status(field: bytes) -> bool:
    return len(field) == 3 and field.isdigit()


def _headers(reader: Reader) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    head = reader.buffered_head()  # usually the whole head came in one read
    if head is not None:
        lines = head.split(b"\n")[:-2]
        if len(lines) > MAX_HEADERS:
            raise BadAnswer("too many headers")
        for line in lines:
            _header(headers, line)
        return headers
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        _header(headers, line)
    raise BadAnswer("too many headers")


def _header(headers: Dict[str, str], line: bytes) -> None:
    name, colon, value = line.decode("latin-1").partition(":")
    if not colon:
        raise BadAnswer(f"bad header line {line[:80]!r}")
    key = name.strip().lower()
    value = value.strip()
    headers[key] = f"{headers[key]}, {value}" if key in headers else value


def _exactly(reader: Reader, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise BadAnswer("connection closed mid-body")
    return data


def _chunked(reader: Reader) -> Tuple[bytes, bool]:
    """The body (its first ``KEEP_BODY`` bytes) and whether it ended cleanly."""
    kept = b""
    total = 0
    while True:
        size_field = _line(reader).split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_field):  # int() would take "-5", "+5", "0x5", "1_0"
            raise BadAnswer(f"bad chunk size {size_field[:20]!r}")
        size = int(size_field, 16)
        if size == 0:
            _headers(reader)  # trailers: as many lines as headers, at most
            return kept, True
        total += size
        if total > MAX_BODY:
            return kept, False
        chunk = _exactly(reader, size)
        if len(kept) < KEEP_BODY:
            kept += chunk[: KEEP_BODY - len(kept)]
        _line(reader)  # the CRLF after the chunk
