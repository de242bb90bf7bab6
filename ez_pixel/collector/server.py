"""The local collector: an ingest server on a background thread.

``ez-pixel serve`` runs it so a developer can watch events arrive; tests use
the recording subclass in :mod:`ez_pixel.testing`. What happens on the wire is
in :mod:`.http`, what each route does in :mod:`.ingest` and :mod:`.api`.
"""

import contextlib
import json
import socket
import threading
import time
from types import TracebackType
from typing import Any, Dict, Iterable, Optional, Set, TextIO, Type

from ez_pixel.contract import FINGERPRINT_CAP

from .http import Server
from .render import render_echo_line
from .routes import route
from .store import ErrorStore

DEFAULT_TIMEOUT = 10.0


def parse_body(text: Optional[str]) -> Any:
    """A decoded request body as Python's ``json`` reads it; None when it is not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


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
    :meth:`start`). Events are accepted for the keys of the projects in the
    database (``POST /api/projects`` creates one), for ``keys`` (each gets a
    project of its own), or for any well-formed key with ``accept_any_key``
    (a project is created on first sight, as tests want). ``echo`` receives
    one line per answered ingest. Subclasses may override :meth:`on_ingest` to
    see every ``POST /ingest`` (:mod:`ez_pixel.testing` does).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        keys: Optional[Iterable[str]] = None,
        echo: Optional[TextIO] = None,
        *,
        accept_any_key: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        fingerprint_cap: int = FINGERPRINT_CAP,
    ) -> None:
        """Configure the collector and open its store; nothing listens until :meth:`start`."""
        self.host = host
        self.timeout = timeout
        self.keys: Optional[Set[str]] = None if keys is None else set(keys)
        self.accept_any_key = accept_any_key
        self.echo = echo
        self.store = ErrorStore(db, fingerprint_cap=fingerprint_cap)
        for key in sorted(self.keys or ()):
            self.store.ensure_key(key)
        self._port = port
        self._server: Optional[Server] = None
        self._thread: Optional[threading.Thread] = None
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
        server = Server((self.host, self._port), self, route)
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

    def on_ingest(
        self, status: int, text: Optional[str], headers: Dict[str, str], answer: Dict[str, Any]
    ) -> None:
        """Called once per answered ``POST /ingest``: echo it when ``echo`` is set.

        ``text`` is the decoded body (None when it was over the cap). Subclasses
        extend this (:class:`ez_pixel.testing.RecordingCollector` records).
        """
        if self.echo is None:
            return
        event = parse_body(text)
        occurrences: Any = None
        if status == 200 and not answer.get("created"):
            group = self.store.get_error(str(answer["error_id"]))
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
