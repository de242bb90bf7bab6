"""The collector's HTTP layer: the listening server, reading requests, writing answers.

Everything here is about HTTP itself (reading a body in any framing, keeping
connections reusable, writing one complete answer); which answer a request
gets is decided by :mod:`.routes`. Answers are :class:`Reply` values.
"""

import contextlib
import re
import selectors
import socket
import socketserver
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, cast

from ez_pixel.contract import MAX_BODY_CHARS

from . import jsjson

if TYPE_CHECKING:
    from .server import Collector

#: A body of more bytes than this decodes to more than the cap in any encoding
#: (at least one UTF-16 unit per 3 bytes, plus two byte order marks).
MAX_BODY_BYTES = 3 * MAX_BODY_CHARS + 6
# Over-cap bodies up to this size are read and thrown away after the 413 so the
# client is not reset mid-upload and reliably gets the answer; bigger ones are not.
_MAX_DISCARD_BYTES = 1 << 20
_DIGITS_RE = re.compile(r"^[0-9]+$")


@dataclass
class Reply:
    """One HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: Optional[str] = "application/json"
    headers: List[Tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, value: Any) -> Reply:
    """A JSON answer, encoded as the server's ``c.json`` encodes it."""
    return Reply(status, jsjson.stringify(value).encode("utf-8"))


def text_reply(status: int, text: str) -> Reply:
    """A plain-text answer (the server's 404 and 500 pages)."""
    return Reply(status, text.encode("utf-8"), "text/plain; charset=UTF-8")


NOT_FOUND = text_reply(404, "404 Not Found")
INTERNAL_ERROR = text_reply(500, "Internal Server Error")

#: Decides the answer to one request.
Router = Callable[["Handler"], Reply]


class BodyTooLarge(Exception):
    """The body is certainly over the cap; it was not (entirely) read."""


class Server(ThreadingHTTPServer):
    """The HTTP server, with a back-reference to its collector and its routes."""

    daemon_threads = True
    # stop() must not wait for idle keep-alive or slow connections.
    block_on_close = False

    def __init__(self, address: Tuple[str, int], collector: "Collector", router: Router) -> None:
        """Bind ``address`` (IPv6 when the host has a colon)."""
        self.collector = collector
        self.router = router
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        # serve_forever() polls for shutdown; waking the selector instead makes
        # stop() immediate and an idle server free. Made before binding, which
        # closes the server (and so this pair) when the port is taken.
        self._wake_read, self._wake_write = socket.socketpair()
        super().__init__(address, Handler)

    def serve_until_woken(self) -> None:
        """Accept connections until :meth:`wake` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_read for key, _ in ready):
                    return
                self.handle_request()  # the socket is readable: returns at once

    def wake(self) -> None:
        """Make :meth:`serve_until_woken` return."""
        self._wake_write.send(b"x")

    def server_close(self) -> None:
        """Close the listening socket and the wake-up pair."""
        super().server_close()
        self._wake_read.close()
        self._wake_write.close()

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the host (slow on some systems)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a dropped client is not worth a traceback on stderr."""


class Handler(BaseHTTPRequestHandler):
    """Reads one connection's requests and writes each router answer completely."""

    protocol_version = "HTTP/1.1"
    server_version = "ez-pixel-collector"
    sys_version = ""
    # Headers and body are two writes: without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    _discard_bytes = 0
    _body_read = False
    _expect_refused = False

    @property
    def collector(self) -> "Collector":
        """The collector this request belongs to."""
        return cast(Server, self.server).collector

    @property
    def route_path(self) -> str:
        """The request's path without its query string."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> str:
        """The request's query string ("" when there is none)."""
        return self.path.split("?", 1)[1] if "?" in self.path else ""

    def setup(self) -> None:
        """Apply the per-connection socket timeout and track the connection."""
        self.request.settimeout(self.collector.timeout)
        super().setup()
        self.collector._track(self.connection, True)

    def finish(self) -> None:
        """Stop tracking the connection."""
        try:
            super().finish()
        finally:
            self.collector._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Suppress the default stderr access log."""

    def __getattr__(self, name: str) -> Any:
        """Every method (``do_GET``, ``do_FOO``...) goes to the router, as on the server."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def send_error(
        self, code: int, message: Optional[str] = None, explain: Optional[str] = None
    ) -> None:
        """Answer protocol-level errors (bad request line, ...) with JSON too."""
        text = message if message else HTTPStatus(code).phrase
        if self.request_version == "HTTP/0.9":
            # An unparsable request line leaves the 0.9 default, which would
            # drop our status line and headers: answer in HTTP/1.1 anyway.
            self.request_version = self.protocol_version
        self.close_connection = True
        self._send(json_reply(code, {"error": text.lower()}))

    def handle_expect_100(self) -> bool:
        """Refuse an announced body that is certainly over the cap before it is sent."""
        length = self.headers.get("content-length", "")
        if _DIGITS_RE.match(length) and int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            self._expect_refused = True  # the client waits for us: nothing to discard
            self._dispatch()
            return False
        return super().handle_expect_100()

    def _dispatch(self) -> None:
        """Answer one request, turning every failure into an answer."""
        self._body_read = False
        try:
            reply = cast(Server, self.server).router(self)
        except OSError:
            self.close_connection = True  # client gone or too slow: nobody to answer
            return
        except Exception:
            self.close_connection = True
            reply = INTERNAL_ERROR
        try:
            self._send(reply)
        finally:
            self._discard_body()

    def header(self, name: str) -> Optional[str]:
        """A request header as ``Headers.get`` returns it: repeated values joined by ", "."""
        values = self.headers.get_all(name)
        return None if not values else ", ".join(values)

    def header_dict(self) -> Dict[str, str]:
        """Return the request headers with lower-cased names."""
        return {name.lower(): value for name, value in self.headers.items()}

    def _has_unread_body(self) -> bool:
        """Return True if the request announced a body that was not read."""
        headers = getattr(self, "headers", None)
        if headers is None or self._body_read:
            return False
        length = headers.get("content-length", "0").strip()
        return headers.get("transfer-encoding") is not None or length not in ("", "0")

    def read_body(self) -> bytes:
        """The whole body (Content-Length, chunked, or none); :class:`BodyTooLarge` past it."""
        if self.headers.get("transfer-encoding") is not None:
            return self._read_chunked()
        lengths = set(self.headers.get_all("content-length") or [])
        if not lengths:
            self._body_read = True
            return b""
        raw = lengths.pop().strip()
        if lengths or not _DIGITS_RE.match(raw):
            self.close_connection = True
            raise ValueError("invalid content-length")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._discard_bytes = 0 if self._expect_refused else length
            raise BodyTooLarge()
        body = self.rfile.read(length)
        self._body_read = True
        if len(body) < length:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _read_chunked(self) -> bytes:
        """Read a chunked body, refusing it once it is certainly over the cap."""
        chunks: List[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise ConnectionError("bad chunk")
            size = int(line.split(b";")[0].strip() or b"x", 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise BodyTooLarge()
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        self._body_read = True
        return b"".join(chunks)

    def _discard_body(self) -> None:
        """After a 413, swallow a moderately sized body so the client sees the answer."""
        remaining, self._discard_bytes = self._discard_bytes, 0
        if not remaining or remaining > _MAX_DISCARD_BYTES:
            return
        with contextlib.suppress(OSError):
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)

    def _send(self, reply: Reply) -> None:
        """Write one complete answer; close the connection when it cannot be reused."""
        close = self.close_connection or self._has_unread_body()
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(reply.body)))
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)
