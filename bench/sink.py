"""A fast loopback HTTP sink that counts events and connections.

Run as its own process (``python bench/sink.py --mode healthy``): it listens on
127.0.0.1 on two ports and prints ``PORTS <data> <control>`` once ready.

* data port, ``healthy``: answers ``POST /ingest`` (one ez-pixel event per
  request) with ``200 {"error_id":1,"created":true,"recurred":false}`` and
  sentry's ``POST /api/<id>/envelope/`` with ``200 {}`` (counting the envelope's
  ``event`` items); keep-alive HTTP/1.1, no Nagle.
* data port, ``blackhole``: accepts connections, reads everything, never answers.
* control port: ``GET /stats`` answers the counters as JSON.
* ``collector``: ez-pixel's own collector instead (SQLite-backed, no counters),
  for an informational throughput figure only.

A "refused" sink needs no process: :func:`closed_port` finds a port nobody
listens on. :class:`Sink` starts and stops the process from the orchestrator.

Stdlib only; no part of ez-pixel is used, so the sink costs the same for every
contender and is never the bottleneck the way a SQLite-backed collector would be.
"""

import argparse
import asyncio
import gzip
import json
import socket
import subprocess
import sys
import time
import urllib.request
import zlib
from types import TracebackType
from typing import Any, Dict, List, Optional, Tuple, Type

INGEST_ANSWER = b'{"error_id":1,"created":true,"recurred":false}'
ENVELOPE_ANSWER = b"{}"
MODES = ("healthy", "blackhole", "collector")


class Counters:
    """What the sink has seen since it started."""

    def __init__(self) -> None:
        self.accepted = 0  # TCP connections accepted on the data port
        self.used = 0  # connections that carried at least one request
        self.requests = 0
        self.events = 0  # ez-pixel ingests plus sentry event items
        self.ingests = 0
        self.envelopes = 0
        self.bytes = 0

    def as_dict(self) -> Dict[str, int]:
        """The counters as a JSON-ready dict."""
        return dict(vars(self))


def envelope_events(body: bytes, encoding: str) -> int:
    """How many ``event`` items a sentry envelope holds (1 if it cannot be read)."""
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding:
            return 1  # br and friends: assume one event per envelope
        count = 0
        pos = body.find(b"\n") + 1  # skip the envelope header
        while 0 < pos < len(body):
            end = body.find(b"\n", pos)
            end = len(body) if end < 0 else end
            line = body[pos:end].strip()
            if not line:
                pos = end + 1
                continue
            header = json.loads(line)
            if header.get("type") == "event":
                count += 1
            length = header.get("length")
            if length is None:  # the payload runs to the next newline
                after = body.find(b"\n", end + 1)
                pos = len(body) if after < 0 else after + 1
            else:
                pos = end + 1 + int(length) + 1
        return count
    except (ValueError, OSError, EOFError):
        return 1


class _Request:
    __slots__ = ("body", "headers", "method", "path", "version")

    def __init__(
        self, method: str, path: str, version: str, headers: Dict[str, str], body: bytes
    ) -> None:
        self.method = method
        self.path = path
        self.version = version
        self.headers = headers
        self.body = body


def _parse_chunked(data: bytearray, start: int) -> Optional[Tuple[bytes, int]]:
    """Decode a chunked body starting at ``start``: (body, end) or None if incomplete."""
    body = bytearray()
    pos = start
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(data[pos:line_end]).split(b";")[0], 16)
        pos = line_end + 2
        if size == 0:
            trailer_end = data.find(b"\r\n\r\n", pos - 2)
            return (bytes(body), trailer_end + 4) if trailer_end >= 0 else None
        if len(data) < pos + size + 2:
            return None
        body += data[pos : pos + size]
        pos += size + 2


def parse_request(data: bytearray) -> Optional[Tuple[_Request, int]]:
    """One complete request from the front of ``data`` and its length, or None."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = bytes(data[:head_end]).decode("latin-1").split("\r\n")
    method, path, version = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    start = head_end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunked = _parse_chunked(data, start)
        if chunked is None:
            return None
        body, end = chunked
    else:
        end = start + int(headers.get("content-length") or 0)
        if len(data) < end:
            return None
        body = bytes(data[start:end])
    return _Request(method, path, version, headers, body), end


def _response(status: str, body: bytes, close: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode("ascii") + body


class DataProtocol(asyncio.Protocol):
    """One connection on the data port."""

    def __init__(self, counters: Counters, mode: str) -> None:
        self.counters = counters
        self.mode = mode
        self.buffer = bytearray()
        self.transport: Optional[asyncio.Transport] = None
        self.used = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Count the connection."""
        self.transport = transport  # type: ignore[assignment]
        self.counters.accepted += 1

    def data_received(self, data: bytes) -> None:
        """Answer every complete request (or, as a black hole, nothing)."""
        self.counters.bytes += len(data)
        if self.mode == "blackhole":
            return
        self.buffer += data
        while True:
            parsed = parse_request(self.buffer)
            if parsed is None:
                return
            request, consumed = parsed
            del self.buffer[:consumed]
            if not self._answer(request):
                return

    def _answer(self, request: _Request) -> bool:
        counters = self.counters
        if not self.used:
            self.used = True
            counters.used += 1
        counters.requests += 1
        close = (
            request.headers.get("connection", "").lower() == "close"
            or request.version == "HTTP/1.0"
        )
        if request.path.startswith("/ingest"):
            counters.ingests += 1
            counters.events += 1
            reply = _response("200 OK", INGEST_ANSWER, close)
        elif "/envelope" in request.path:
            counters.envelopes += 1
            encoding = request.headers.get("content-encoding", "").lower()
            counters.events += envelope_events(request.body, encoding)
            reply = _response("200 OK", ENVELOPE_ANSWER, close)
        else:
            reply = _response("404 Not Found", b'{"error":"not found"}', close)
        assert self.transport is not None
        self.transport.write(reply)
        if close:
            self.transport.close()
            return False
        return True


class ControlProtocol(asyncio.Protocol):
    """The control port: ``GET /stats`` returns the counters."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.buffer = bytearray()
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Answer the stats request and close."""
        self.buffer += data
        parsed = parse_request(self.buffer)
        if parsed is None or self.transport is None:
            return
        body = json.dumps(self.counters.as_dict()).encode()
        self.transport.write(_response("200 OK", body, True))
        self.transport.close()


async def serve(mode: str) -> None:
    """Listen on two loopback ports, print them, then serve until killed."""
    loop = asyncio.get_running_loop()
    counters = Counters()
    data = await loop.create_server(
        lambda: DataProtocol(counters, mode), "127.0.0.1", 0, backlog=1024
    )
    control = await loop.create_server(lambda: ControlProtocol(counters), "127.0.0.1", 0)
    data_port = data.sockets[0].getsockname()[1]
    control_port = control.sockets[0].getsockname()[1]
    print(f"PORTS {data_port} {control_port}", flush=True)
    await asyncio.Event().wait()


def serve_collector() -> None:
    """Run ez-pixel's own collector (SQLite-backed) instead, for information only."""
    import threading

    from ez_pixel.collector import Collector

    collector = Collector(accept_any_key=True).start()  # the bench sends with its own keys
    print(f"PORTS {collector.port} 0", flush=True)
    threading.Event().wait()


def ceiling(port: int, count: int = 3000, size: int = 1400) -> float:
    """Requests/s the sink answers on one kept-alive connection from a raw-socket client.

    The most events/s any SDK could be measured at, one request at a time.
    """
    body = b"x" * size
    request = (
        f"POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode("ascii") + body
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        for _ in range(count):
            sock.sendall(request)
            answer = b""
            while not answer.endswith(INGEST_ANSWER):
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("the sink closed the connection")
                answer += chunk
        return count / (time.perf_counter() - started)


def closed_port() -> int:
    """A loopback port with no listener (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """Runs the sink process for one measurement: ``with Sink("healthy") as sink: ...``.

    ``mode="refused"`` starts nothing and points at a closed port; ``"collector"``
    runs ez-pixel's collector with ``python`` (an interpreter that has ez-pixel).
    """

    def __init__(self, mode: str, python: Optional[str] = None) -> None:
        if mode not in (*MODES, "refused"):
            raise ValueError(f"unknown sink mode {mode!r}")
        self.mode = mode
        self.python = python or sys.executable
        self.port = 0
        self._control = 0
        self._process: Optional[subprocess.Popen] = None  # type: ignore[type-arg]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Sink":
        """Start the process (if any) and wait until it listens."""
        if self.mode == "refused":
            self.port = closed_port()
            return self
        self._process = subprocess.Popen(
            [self.python, __file__, "--mode", self.mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if len(line) != 3 or line[0] != "PORTS":
            self.stop()
            raise RuntimeError(f"sink did not start: {line!r}")
        self.port, self._control = int(line[1]), int(line[2])
        return self

    def stats(self) -> Dict[str, Any]:
        """The sink's counters (empty for a refused sink)."""
        if not self._control:
            return {}
        url = f"http://127.0.0.1:{self._control}/stats"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
        with opener.open(url, timeout=5) as answer:
            return dict(json.loads(answer.read()))

    def stop(self) -> None:
        """Stop the process."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> "Sink":
        """Start the sink."""
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Stop the sink."""
        self.stop()


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of the sink process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, default="healthy")
    args = parser.parse_args(argv)
    try:
        if args.mode == "collector":
            serve_collector()
        else:
            asyncio.run(serve(args.mode))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
