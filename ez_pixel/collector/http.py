"""The collector's HTTP layer: the listening server and the request handler.

Everything here is about HTTP itself (routing, reading a body safely,
answering in JSON, closing connections that cannot be reused); what each
route does lives in :mod:`.ingest` and :mod:`.api`, and the route table in
:mod:`.routes`.
"""

import json
import re
import selectors
import socket
import socketserver
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    cast,
)
from urllib.parse import urlsplit

from ez_pixel.contract import MAX_BODY_CHARS

if TYPE_CHECKING:
    from .server import Collector

# Over-cap bodies up to this size are read and thrown away after the 413 so the
# client is not reset mid-upload and reliably gets the answer; bigger ones are not.
_MAX_DISCARD_BYTES = 1 << 20
DIGITS_RE = re.compile(r"^[0-9]+$")

#: A route's handler: called with the request handler and the path's groups.
RouteHandler = Callable[..., None]
#: ``(path pattern, {method: handler})``, tried in order.
Route = Tuple["re.Pattern[str]", Dict[str, RouteHandler]]


class Reject(Exception):
    """An HTTP error answer raised from deep inside a request handler."""

    def __init__(self, status: int, error: str) -> None:
        """Answer ``status`` with ``{"error": error}``."""
        super().__init__(error)
        self.status = status
        self.error = error


def _reject_constant(name: str) -> Any:
    """Refuse ``NaN``/``Infinity``: they are not JSON and strict servers reject them."""
    raise ValueError(f"not JSON: {name}")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body, raising ``Reject(400, "invalid json")`` on any failure."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise Reject(400, "invalid json") from None


class Server(ThreadingHTTPServer):
    """The HTTP server, with a back-reference to its collector and its routes."""

    daemon_threads = True
    # stop() must not wait for idle keep-alive or slow connections.
    block_on_close = False

    def __init__(
        self, address: Tuple[str, int], collector: "Collector", routes: List[Route]
    ) -> None:
        """Bind ``address`` (IPv6 when the host has a colon)."""
        self.collector = collector
        self.routes = routes
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        # serve_forever() polls for shutdown; waking the selector instead makes
        # stop() immediate and an idle server free.
        self._wake_read, self._wake_write = socket.socketpair()

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
    """Routes one connection's requests; every answer is JSON with a Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "ez-pixel-collector"
    sys_version = ""
    # Headers and body are two writes: without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    _discard_bytes = 0
    _body_read = False

    @property
    def collector(self) -> "Collector":
        """The collector this request belongs to."""
        return cast(Server, self.server).collector

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

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Handle PATCH."""
        self._dispatch()

    def do_OPTIONS(self) -> None:
        """Handle OPTIONS."""
        self._dispatch()

    def do_HEAD(self) -> None:
        """Handle HEAD (answered without a body)."""
        self._dispatch()

    def send_error(
        self, code: int, message: Optional[str] = None, explain: Optional[str] = None
    ) -> None:
        """Answer protocol-level errors (bad request line, ...) with JSON too."""
        text = message if message else HTTPStatus(code).phrase
        if self.request_version == "HTTP/0.9":
            # An unparsable request line leaves the 0.9 default, which would
            # drop our status line and headers: answer in HTTP/1.1 anyway.
            self.request_version = self.protocol_version
        self.send_json(code, {"error": text.lower()}, close=True)

    def handle_expect_100(self) -> bool:
        """Refuse an announced oversize body before the client sends it."""
        length = self.headers.get("content-length", "")
        if DIGITS_RE.match(length) and int(length) > MAX_BODY_CHARS:
            if urlsplit(self.path).path == "/ingest":
                self.collector.on_ingest(413, None, self.header_dict())
            self.send_json(413, {"error": "payload too large"}, close=True)
            return False
        return super().handle_expect_100()

    def _dispatch(self) -> None:
        """Route the request, turning every failure into a JSON answer."""
        self._body_read = False
        try:
            self._route()
        except Reject as reject:
            self.send_json(reject.status, {"error": reject.error}, close=reject.status >= 500)
        except OSError:
            self.close_connection = True  # client gone or too slow: nobody to answer
        except Exception:
            self.send_json(500, {"error": "internal error"}, close=True)
        finally:
            self._discard_body()

    def _route(self) -> None:
        """Find the handler for this path and method, or answer 404/405."""
        path = urlsplit(self.path).path
        for pattern, methods in cast(Server, self.server).routes:
            match = pattern.match(path)
            if match is None:
                continue
            handler = methods.get(self.command)
            if handler is None:
                self.send_json(405, {"error": "method not allowed"}, allow=methods)
            else:
                handler(self, *match.groups())
            return
        self.send_json(404, {"error": "not found"})

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
        """Read the body announced by Content-Length, refusing oversize ones unread."""
        if self.headers.get("transfer-encoding") is not None:
            self.close_connection = True
            raise Reject(411, "length required")
        lengths = set(self.headers.get_all("content-length") or [])
        if not lengths:
            raise Reject(411, "length required")
        raw = lengths.pop().strip()
        if lengths or not DIGITS_RE.match(raw):
            self.close_connection = True
            raise Reject(400, "invalid content-length")
        length = int(raw)
        if length > MAX_BODY_CHARS:
            self.close_connection = True
            self._discard_bytes = length
            raise Reject(413, "payload too large")
        body = self.rfile.read(length)
        self._body_read = True
        if len(body) < length:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _discard_body(self) -> None:
        """After a 413, swallow a moderately sized body so the client sees the answer."""
        remaining, self._discard_bytes = self._discard_bytes, 0
        if not remaining or remaining > _MAX_DISCARD_BYTES:
            return
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return

    def send_json(
        self, status: int, body: Any, *, close: bool = False, allow: Iterable[str] = ()
    ) -> None:
        """Write one complete JSON response; ``close`` ends the keep-alive connection.

        The connection is also closed when it cannot be reused: after an earlier
        decision to close, or when the request's body was left unread.
        """
        close = close or self.close_connection or self._has_unread_body()
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", ", ".join(allow))
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
