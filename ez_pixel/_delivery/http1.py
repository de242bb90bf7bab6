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

from typing import BinaryIO, Dict, NamedTuple, Tuple

#: Longest status or header line accepted, and most headers.
MAX_LINE = 65_536
MAX_HEADERS = 100
#: Bytes of an answer's body kept (for warnings); the rest is read and dropped.
KEEP_BODY = 2048
#: Larger bodies are not read at all: the connection is closed instead.
MAX_BODY = 1 << 20


class BadAnswer(Exception):
    """The server's answer is not HTTP/1.x framed as the headers say."""


class ClosedBeforeAnswer(BadAnswer):
    """The connection ended before the first byte of an answer.

    On a reused connection this is the server having closed it while idle,
    and one new try on a fresh connection is safe.
    """


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


def read_response(reader: BinaryIO) -> Response:
    """Read one answer from ``reader``, skipping interim ``1xx`` answers."""
    first = reader.readline(MAX_LINE + 1)
    if not first:
        raise ClosedBeforeAnswer("connection closed before an answer")
    while True:
        version, status = _status_line(first)
        headers = _headers(reader)
        if 100 <= status < 200:  # "100 Continue" and the like: the real answer follows
            first = _line(reader)
            continue
        break
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
    if not length.strip().isdigit():
        raise BadAnswer(f"bad content-length {length[:40]!r}")
    size = int(length)
    if size > MAX_BODY:
        return Response(status, headers, reader.read(KEEP_BODY), False)
    return Response(status, headers, _exactly(reader, size)[:KEEP_BODY], reusable)


def _line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if not line:
        raise BadAnswer("connection closed mid-answer")
    if len(line) > MAX_LINE:
        raise BadAnswer("line too long")
    return line


def _status_line(line: bytes) -> Tuple[str, int]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadAnswer(f"bad status line {line[:80]!r}")
    return parts[0].decode("ascii", "replace"), int(parts[1])


def _headers(reader: BinaryIO) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise BadAnswer(f"bad header line {line[:80]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise BadAnswer("too many headers")


def _exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise BadAnswer("connection closed mid-body")
    return data


def _chunked(reader: BinaryIO) -> Tuple[bytes, bool]:
    """The body (its first ``KEEP_BODY`` bytes) and whether it ended cleanly."""
    kept = b""
    total = 0
    while True:
        size_field = _line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise BadAnswer(f"bad chunk size {size_field[:20]!r}") from None
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n"):  # trailers
                pass
            return kept, True
        total += size
        if total > MAX_BODY:
            return kept, False
        chunk = _exactly(reader, size)
        if len(kept) < KEEP_BODY:
            kept += chunk[: KEEP_BODY - len(kept)]
        _line(reader)  # the CRLF after the chunk
