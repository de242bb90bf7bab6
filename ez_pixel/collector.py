"""A local ingest server that answers exactly like the hosted pixel server.

``ez-pixel serve`` runs it so a developer can watch events arrive, and the test
suite runs it (``Collector(record=True)``) to see exactly what the SDK sent::

    with Collector(record=True) as collector:
        send_events_to(collector.ingest_url)
        bodies = collector.wait_for(1)

Routes: ``POST /ingest`` (the contract), ``GET /api/errors[?project_key=&limit=]``,
``GET /api/errors/<id>``, ``POST /api/errors/<id>/resolve`` and
``POST /api/projects`` (``{"name"}`` -> ``{"id", "key", "secret"}``).
"""

import contextlib
import json
import re
import selectors
import socket
import socketserver
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Set,
    TextIO,
    Tuple,
    Type,
    Union,
    cast,
)
from urllib.parse import parse_qs, urlsplit

from ez_pixel.contract import KEY_HEADER, MAX_BODY_CHARS, validate_event
from ez_pixel.render import render_echo_line
from ez_pixel.store import DEFAULT_FINGERPRINT_CAP, ErrorStore

#: One recorded ``POST /ingest``: (status, parsed JSON body or None, lower-cased headers).
Received = Tuple[int, Any, Dict[str, str]]
#: What :meth:`Collector.wait_for` waits for: a count of accepted events, or a test on them.
WaitCondition = Union[int, Callable[[List[Any]], bool]]

DEFAULT_TIMEOUT = 10.0
MAX_LIST_LIMIT = 1000
MAX_PROJECT_NAME_CHARS = 200
# Over-cap bodies up to this size are read and thrown away after the 413 so the
# client is not reset mid-upload and reliably gets the answer; bigger ones are not.
_MAX_DISCARD_BYTES = 1 << 20
_DIGITS_RE = re.compile(r"^[0-9]+$")


class WaitTimeout(AssertionError):
    """Raised by :meth:`Collector.wait_for` when its condition is not met in time."""


class _Reject(Exception):
    """An HTTP error answer raised from deep inside a request handler."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _reject_constant(name: str) -> Any:
    """Refuse ``NaN``/``Infinity``: they are not JSON and strict servers reject them."""
    raise ValueError(f"not JSON: {name}")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body, raising ``_Reject(400, "invalid json")`` on any failure."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _Reject(400, "invalid json") from None


class _Server(ThreadingHTTPServer):
    """The HTTP server, with a back-reference to its collector."""

    daemon_threads = True
    # stop() must not wait for idle keep-alive or slow connections.
    block_on_close = False

    def __init__(self, address: Tuple[str, int], collector: "Collector") -> None:
        self.collector = collector
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
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


class _Handler(BaseHTTPRequestHandler):
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
        return cast(_Server, self.server).collector

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
        """Handle PUT (always 404/405)."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Handle DELETE (always 404/405)."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Handle PATCH (always 404/405)."""
        self._dispatch()

    def do_OPTIONS(self) -> None:
        """Handle OPTIONS (always 404/405)."""
        self._dispatch()

    def do_HEAD(self) -> None:
        """Handle HEAD (always 404/405, without a body)."""
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
        self._send_json(code, {"error": text.lower()}, close=True)

    def handle_expect_100(self) -> bool:
        """Refuse an announced oversize body before the client sends it."""
        length = self.headers.get("content-length", "")
        if _DIGITS_RE.match(length) and int(length) > MAX_BODY_CHARS:
            if urlsplit(self.path).path == "/ingest":
                self.collector._record(413, None, self._header_dict())
            self._send_json(413, {"error": "payload too large"}, close=True)
            return False
        return super().handle_expect_100()

    def _dispatch(self) -> None:
        """Route the request, turning every failure into a JSON answer."""
        self._body_read = False
        try:
            self._route()
        except _Reject as reject:
            self._send_json(reject.status, {"error": reject.error}, close=reject.status >= 500)
        except OSError:
            self.close_connection = True  # client gone or too slow: nobody to answer
        except Exception:
            self._send_json(500, {"error": "internal error"}, close=True)
        finally:
            self._discard_body()

    def _route(self) -> None:
        """Find the handler for this path and method, or answer 404/405."""
        path = urlsplit(self.path).path
        for pattern, methods in _ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            handler = methods.get(self.command)
            if handler is None:
                self._send_json(405, {"error": "method not allowed"}, allow=methods)
            else:
                handler(self, *match.groups())
            return
        self._send_json(404, {"error": "not found"})

    def _header_dict(self) -> Dict[str, str]:
        """Return the request headers with lower-cased names."""
        return {name.lower(): value for name, value in self.headers.items()}

    def _has_unread_body(self) -> bool:
        """Return True if the request announced a body that was not read."""
        headers = getattr(self, "headers", None)
        if headers is None or self._body_read:
            return False
        length = headers.get("content-length", "0").strip()
        return headers.get("transfer-encoding") is not None or length not in ("", "0")

    def _read_body(self) -> bytes:
        """Read the body announced by Content-Length, refusing oversize ones unread."""
        if self.headers.get("transfer-encoding") is not None:
            self.close_connection = True
            raise _Reject(411, "length required")
        lengths = set(self.headers.get_all("content-length") or [])
        if not lengths:
            raise _Reject(411, "length required")
        raw = lengths.pop().strip()
        if lengths or not _DIGITS_RE.match(raw):
            self.close_connection = True
            raise _Reject(400, "invalid content-length")
        length = int(raw)
        if length > MAX_BODY_CHARS:
            self.close_connection = True
            self._discard_bytes = length
            raise _Reject(413, "payload too large")
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

    def _ingest(self) -> None:
        """``POST /ingest``: validate like the hosted server, store, record, echo, answer."""
        event: Any = None
        try:
            event = parse_json(self._read_body())
            status, answer = self._answer_event(event)
        except _Reject as reject:
            status, answer = reject.status, {"error": reject.error}
        self.collector._record(status, event, self._header_dict())
        self.collector._echo(event, status, answer)
        self._send_json(status, answer)

    def _answer_event(self, event: Any) -> Tuple[int, Dict[str, Any]]:
        """Apply the contract's checks in the server's order, then store the event."""
        if not isinstance(event, dict):
            raise _Reject(400, "invalid json")
        error = validate_event(event)
        if error is not None:
            raise _Reject(400, error)
        header_key = self.headers.get(KEY_HEADER)
        if header_key is not None and header_key != event["project_key"]:
            raise _Reject(400, "project_key mismatch")
        if not self.collector.key_allowed(event["project_key"]):
            raise _Reject(401, "unknown project_key")
        return self.collector.store.ingest(event)

    def _list_errors(self) -> None:
        """``GET /api/errors``: groups, most recently seen first."""
        query = parse_qs(urlsplit(self.path).query)
        project_key = query.get("project_key", [None])[0]
        raw_limit = query.get("limit", ["100"])[0]
        if not _DIGITS_RE.match(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
            raise _Reject(400, "invalid limit")
        groups = self.collector.store.list_groups(project_key, limit=int(raw_limit))
        self._send_json(200, groups)

    def _get_error(self, group_id: str) -> None:
        """``GET /api/errors/<id>``: one group with its stack and code context."""
        group = self.collector.store.get_group(int(group_id))
        if group is None:
            raise _Reject(404, "error not found")
        self._send_json(200, group)

    def _resolve_error(self, group_id: str) -> None:
        """``POST /api/errors/<id>/resolve``: mark fixed; a new occurrence reopens it."""
        if not self.collector.store.resolve(int(group_id)):
            raise _Reject(404, "error not found")
        self._send_json(200, {"error_id": int(group_id), "resolved": True})

    def _create_project(self) -> None:
        """``POST /api/projects`` ``{"name"}``: 201 ``{id, key, secret}``, 200 if it exists."""
        body = parse_json(self._read_body())
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_PROJECT_NAME_CHARS:
            raise _Reject(400, "invalid name")
        project, created = self.collector.store.ensure_project(name.strip())
        self._send_json(201 if created else 200, project)

    def _send_json(
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


_RouteHandler = Callable[..., None]
_ROUTES: List[Tuple["re.Pattern[str]", Dict[str, _RouteHandler]]] = [
    (re.compile(r"^/ingest$"), {"POST": _Handler._ingest}),
    (re.compile(r"^/api/errors$"), {"GET": _Handler._list_errors}),
    (re.compile(r"^/api/errors/([0-9]{1,18})$"), {"GET": _Handler._get_error}),
    (re.compile(r"^/api/errors/([0-9]{1,18})/resolve$"), {"POST": _Handler._resolve_error}),
    (re.compile(r"^/api/projects$"), {"POST": _Handler._create_project}),
]


def _as_predicate(condition: WaitCondition) -> Callable[[List[Any]], bool]:
    """Turn a count of accepted events into a test on the accepted bodies."""
    if not isinstance(condition, int):
        return condition
    return lambda bodies: len(bodies) >= condition


def _url_host(host: str) -> str:
    """Return how to reach ``host`` in a URL (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Collector:
    """A local pixel ingest server on a background thread.

    ``port=0`` picks a free port (read it back from :attr:`port` after
    :meth:`start`). ``keys``, when given, is the set of accepted project keys
    (keys of projects created through ``POST /api/projects`` are accepted too).
    ``echo`` receives one line per answered ingest; ``record=True`` keeps every
    ``POST /ingest`` in :attr:`received` for tests.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        keys: Optional[Iterable[str]] = None,
        echo: Optional[TextIO] = None,
        record: bool = False,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        fingerprint_cap: int = DEFAULT_FINGERPRINT_CAP,
    ) -> None:
        """Configure the collector and open its store; nothing listens until :meth:`start`."""
        self.host = host
        self.timeout = timeout
        self.keys: Optional[Set[str]] = None if keys is None else set(keys)
        self.echo = echo
        self.record = record
        self.store = ErrorStore(db, fingerprint_cap=fingerprint_cap)
        #: Every ``POST /ingest`` as ``(status, body_json_or_None, headers)`` when recording.
        self.received: List[Received] = []
        self._port = port
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._changed = threading.Condition()
        self._echo_lock = threading.Lock()
        self._connections: Set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def port(self) -> int:
        """The listening port (the chosen one once started with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def ingest_url(self) -> str:
        """The URL events are POSTed to."""
        return self.url + "/ingest"

    def start(self) -> "Collector":
        """Bind and serve on a daemon thread; return self."""
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), self)
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_until_woken,
            name=f"ez-pixel-collector:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections; the store stays readable."""
        server, self._server = self._server, None
        if server is None:
            return
        server.wake()
        if self._thread is not None:
            self._thread.join()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()

    def __enter__(self) -> "Collector":
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Stop serving."""
        self.stop()

    def key_allowed(self, project_key: str) -> bool:
        """Return True if events for ``project_key`` are accepted."""
        if self.keys is None or project_key in self.keys:
            return True
        return self.store.has_project_key(project_key)

    def accepted(self) -> List[Any]:
        """Return the bodies of recorded events answered 200, in arrival order."""
        with self._changed:
            return [body for status, body, _ in self.received if status == 200]

    def wait_for(self, predicate_or_count: WaitCondition, timeout: float = 5.0) -> List[Any]:
        """Wait until N events were accepted (or ``predicate(accepted_bodies)`` holds).

        Returns the accepted (status 200) bodies; raises :class:`WaitTimeout`
        when the deadline passes first. Needs ``record=True``.
        """
        if not self.record:
            raise RuntimeError("wait_for needs Collector(record=True)")
        predicate = _as_predicate(predicate_or_count)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                bodies = self.accepted()
                if predicate(bodies):
                    return bodies
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    statuses = [status for status, _, _ in self.received]
                    raise WaitTimeout(
                        f"condition not met within {timeout}s; ingest statuses so far: {statuses}"
                    )
                self._changed.wait(remaining)

    def _record(self, status: int, body: Any, headers: Dict[str, str]) -> None:
        """Keep one ingest request for tests and wake up :meth:`wait_for`."""
        if not self.record:
            return
        with self._changed:
            self.received.append((status, body, headers))
            self._changed.notify_all()

    def _echo(self, event: Any, status: int, answer: Dict[str, Any]) -> None:
        """Print the ``serve`` log line for one answered ingest."""
        if self.echo is None:
            return
        occurrences: Any = None
        if status == 200 and not answer.get("created"):
            group = self.store.get_group(int(answer["error_id"]))
            occurrences = None if group is None else group["occurrences"]
        shown = event if isinstance(event, dict) else {}
        line = render_echo_line(time.strftime("%H:%M:%S"), shown, status, answer, occurrences)
        with self._echo_lock:
            try:
                self.echo.write(line + "\n")
                self.echo.flush()
            except (OSError, ValueError):
                pass  # a closed or broken terminal must not break ingestion

    def _track(self, connection: socket.socket, is_open: bool) -> None:
        """Remember open connections so :meth:`stop` can close them."""
        with self._connections_lock:
            if not is_open:
                self._connections.discard(connection)
            elif self._server is None:
                # Accepted just before stop(): do not serve it after all.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            else:
                self._connections.add(connection)
