"""Real servers on 127.0.0.1 that tests script: the one home of every test server.

Each POST takes the next step of a script: an HTTP status, a dict
(``status``, ``retry_after``, ``delay`` seconds, ``close``: answer then close
the kept-alive connection without saying so), ``"hang"`` (read the request,
never answer) or ``"reset"`` (close the connection without an answer). When
the script runs out, every request gets 200, after ``delay`` seconds if set.
Every request body is recorded, and so is every accepted connection.
"""

import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Type, TypeVar, Union

Step = Union[int, str, Dict[str, Any]]
Self = TypeVar("Self", bound="LoopbackHTTP")


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler for test servers: HTTP/1.1 kept alive, no Nagle delay, no logging."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def send(self, status: int, payload: bytes, headers: Optional[Dict[str, str]] = None) -> None:
        """Answer ``status`` with ``payload`` (its length given) and ``headers``."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LoopbackHTTP:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 served from a daemon thread while in ``with``."""

    def _listen(self, handler: Type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def __enter__(self: Self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


class FaultServer(LoopbackHTTP):
    """Scripted answers, recorded requests; use as a context manager."""

    def __init__(
        self,
        script: Optional[List[Step]] = None,
        *,
        port: int = 0,
        delay: float = 0.0,
        tls: Optional[ssl.SSLContext] = None,
    ) -> None:
        self.script: List[Step] = list(script or [])
        self.delay = delay
        self.requests: List[Dict[str, Any]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        server = self

        class Handler(QuietHandler):
            def setup(self) -> None:
                with server._lock:
                    server.connections += 1
                super().setup()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    step: Step = server.script.pop(0) if server.script else 200
                    if not server.script and step == 200 and server.delay:
                        step = {"status": 200, "delay": server.delay}
                    server.requests.append(
                        {"body": json.loads(body), "headers": dict(self.headers), "step": step}
                    )
                if isinstance(step, dict):
                    time.sleep(step.get("delay", 0))
                    status, retry_after = step.get("status", 200), step.get("retry_after")
                elif step == "hang":
                    server._release.wait(30)
                    return
                elif step == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    return
                else:
                    status, retry_after = int(step), None
                close_after = isinstance(step, dict) and step.get("close", False)
                payload = json.dumps({"ok": status == 200, "error": f"scripted {status}"}).encode()
                headers = {"content-type": "application/json"}
                if retry_after is not None:
                    headers["retry-after"] = str(retry_after)
                self.send(status, payload, headers)
                if close_after:
                    self.close_connection = True

        self._listen(Handler, port)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls is not None else "http"

    @property
    def ingest_url(self) -> str:
        """The URL to send events to."""
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}/ingest"

    def bodies(self) -> List[Dict[str, Any]]:
        """Every request body received so far, in order."""
        with self._lock:
            return [r["body"] for r in self.requests]

    def wait_for(
        self, predicate: Callable[[List[Dict[str, Any]]], bool], timeout: float = 10.0
    ) -> bool:
        """Poll the recorded bodies until ``predicate`` holds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.bodies()):
                return True
            time.sleep(0.01)
        return predicate(self.bodies())

    def __exit__(self, *exc: Any) -> None:
        self._release.set()  # "hang" steps stop waiting
        super().__exit__(*exc)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proxy(LoopbackHTTP):
    """A minimal forward HTTP proxy on 127.0.0.1 that records the URLs it forwards."""

    def __init__(self) -> None:
        self.forwarded: List[str] = []
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                proxy.forwarded.append(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(self.path, data=body, headers=headers)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(request, timeout=10) as answer:
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                self.send(status, payload)

        self._listen(Handler)

    @property
    def url(self) -> str:
        """The proxy's URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"


class BlackHole:
    """A listening socket that accepts connections and never answers."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)

    @property
    def ingest_url(self) -> str:
        """The URL to send events to (they are never answered)."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/ingest"

    def __enter__(self) -> "BlackHole":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._sock.close()


class RawServer:
    """Answers each POST with the next scripted raw answer, byte for byte.

    A step is ``(answer_bytes, close_after)``, or ``(write, _)``: ``write(conn)``
    sends its own answer (say, an endless one) and the connection closes after
    it; when the script runs out every
    request gets a plain ``200``. Request bodies (JSON) and accepted
    connections are recorded. Lets tests send framings a stdlib server never
    makes: chunked bodies, ``100 Continue``, HTTP/1.0, no length, garbage.
    """

    OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"

    def __init__(self, script: List[Any]) -> None:
        self._script = list(script)
        self._lock = threading.Lock()
        self.connections = 0
        self._bodies: List[Dict[str, Any]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def ingest_url(self) -> str:
        """The URL to send events to."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/ingest"

    def bodies(self) -> List[Dict[str, Any]]:
        """The JSON bodies received so far, in order."""
        with self._lock:
            return list(self._bodies)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = reader.read(length)
                with self._lock:
                    self._bodies.append(json.loads(body))
                    answer, close = self._script.pop(0) if self._script else (self.OK, False)
                if callable(answer):  # streams its own answer, e.g. for ever
                    try:
                        answer(conn)
                    except OSError:  # the client gave up
                        pass
                    return
                conn.sendall(answer)
                if close:
                    return

    def __enter__(self) -> "RawServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._sock.close()
