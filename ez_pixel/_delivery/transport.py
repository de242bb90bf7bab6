"""One HTTP POST per event over one kept-alive connection that urllib3 opens.

urllib3 is imported here only, and this module only by the worker thread (and
``ez-pixel send-test``), so ``import ez_pixel`` and ``init_pixel()`` stay cheap.
"""

import platform
import ssl
import time
import urllib.request
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_ import create_urllib3_context
from urllib3.util.wait import wait_for_read

from .._guard import swallowed
from .._version import __version__
from ..contract import KEY_HEADER
from ..options import Options
from . import http1
from .answer import FAILED, TLS, UNREACHABLE, Answer
from .retry import parse_retry_after


def exchange_limit(options: Options) -> float:
    """How long one exchange may take in all: twice ``read_timeout``.

    ``read_timeout`` bounds each wait for the next bytes; this bounds the sum,
    so a server dripping its answer a byte at a time cannot hold the worker.
    """
    return 2 * options.read_timeout


def _urllib3_version() -> str:
    return str(getattr(urllib3, "__version__", "?"))


def user_agent() -> str:
    """``ez-pixel/<version>`` plus the Python and urllib3 versions."""
    return f"ez-pixel/{__version__} python/{platform.python_version()} urllib3/{_urllib3_version()}"


def proxy_for(url: str, explicit: Optional[str]) -> Optional[str]:
    """The proxy to use for ``url``: ``explicit``, else ``*_PROXY`` unless ``NO_PROXY`` matches."""
    if explicit:
        return explicit
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _tls_context(options: Options) -> ssl.SSLContext:
    """Certificates and host names always verified; ``ca_certs`` replaces the system's CAs.

    urllib3 makes the context, so that its host-name checks (its own in 1.26,
    the ``ssl`` module's in 2.x, for names and IP addresses) apply as usual.
    """
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    if options.ca_certs:
        context.load_verify_locations(cafile=options.ca_certs)
    else:
        context.load_default_certs()
    return context


#: urllib3 1.26 configures HTTPS connections differently from 2.x.
_URLLIB3_1 = _urllib3_version().startswith("1.")


def _https_connection(host: str, port: int, context: ssl.SSLContext, **kwargs: Any) -> Any:
    """A verifying urllib3 HTTPS connection (not yet connected), for urllib3 1.26 and 2.x."""
    if _URLLIB3_1:  # 1.26 takes its certificate settings through set_cert()
        connection = HTTPSConnection(host, port, ssl_context=context, **kwargs)
        connection.set_cert(cert_reqs="CERT_REQUIRED")
        return connection
    return HTTPSConnection(host, port, ssl_context=context, cert_reqs="CERT_REQUIRED", **kwargs)


class Transport:
    """Posts encoded events to one ingest URL over one kept-alive connection.

    urllib3 opens the connection (with its TCP and TLS settings, verifying the
    certificate) and :mod:`ez_pixel._delivery.http1` writes the request and reads the
    answer on it. Through a proxy, urllib3's ``ProxyManager`` does the whole
    request instead.
    """

    def __init__(self, options: Options) -> None:
        self._options = options
        self._url = options.ingest_url
        headers = {
            "content-type": "application/json",
            KEY_HEADER: options.project_key,
            "user-agent": user_agent(),
        }
        parts = urlsplit(self._url)
        self._proxied: Any = None
        proxy = proxy_for(self._url, options.proxy_url)
        if proxy:
            tls: Dict[str, Any] = {}
            if parts.scheme == "https":
                tls["ssl_context"] = _tls_context(options)
            self._proxied = urllib3.ProxyManager(
                proxy,
                num_pools=1,
                maxsize=1,
                timeout=urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
                retries=False,
                **tls,
            )
            self._headers = headers
            return
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = _tls_context(options) if parts.scheme == "https" else None
        self._head = http1.request_head(
            _target(self._url), parts.netloc.rpartition("@")[2], headers
        )
        self._connection: Any = None
        self._reader: Optional[http1.Reader] = None
        #: The longest a whole exchange (request out, answer in) may take.
        self._exchange_limit = exchange_limit(options)

    def post(self, body: bytes, meanwhile: Optional[Callable[[], None]] = None) -> Answer:
        """POST ``body``; never raises for network trouble.

        ``meanwhile`` (which must not raise) runs once the request is sent and
        before its answer is read: the worker builds the next event there,
        while the server works.
        """
        if self._proxied is not None:
            return self._post_proxied(body)
        reused = self._connection is not None and self._still_open()
        if not reused:
            failure = self._connect()
            if failure is not None:
                return failure
        assert self._connection is not None and self._reader is not None
        reader = self._reader
        try:
            reader.deadline = time.monotonic() + self._exchange_limit
            reader.limit_socket()  # sendall: the timeout bounds the whole send
            self._connection.sock.sendall(http1.request(self._head, body))
            if meanwhile is not None:
                meanwhile()
            response = http1.read_response(reader)
        except Exception as exc:  # whatever the answer was, it is a failed try
            self.close()
            if reused and isinstance(exc, _IDLE_CLOSE):
                # The server closed the kept-alive connection between two
                # events: one try on a fresh one is safe, because the server
                # deduplicates by event_id.
                return self.post(body, meanwhile)
            return _failure(exc, FAILED)
        if not response.reusable or reader.buffered:  # bytes nobody asked for: not ours
            self.close()
        text = response.body.decode("utf-8", "replace")
        return Answer(response.status, text, parse_retry_after(response.headers.get("retry-after")))

    def _still_open(self) -> bool:
        """False (and closed) when the idle connection cannot carry the next request.

        Anything to read on an idle connection, already buffered or still in
        the socket, is either its end or bytes nobody asked for (a second
        answer to the last request): read as the next answer, it would be
        credited to the wrong event.
        """
        assert self._reader is not None
        pending = getattr(self._connection.sock, "pending", None)  # TLS: decrypted, unread
        if (
            self._reader.buffered
            or (pending is not None and pending())
            or wait_for_read(self._connection.sock, timeout=0.0)
        ):
            self.close()
            return False
        return True

    def _connect(self) -> Optional[Answer]:
        """Open the connection; the failure as an answer, or None."""
        kwargs: Dict[str, Any] = {"timeout": self._options.connect_timeout}
        connection: HTTPConnection
        if self._tls is not None:
            connection = _https_connection(self._host, self._port, self._tls, **kwargs)
        else:
            connection = HTTPConnection(self._host, self._port, **kwargs)
        try:
            connection.connect()
            connection.sock.settimeout(self._options.read_timeout)
        except Exception as exc:
            connection.close()
            return _failure(exc, UNREACHABLE)
        self._connection = connection
        self._reader = http1.Reader(connection.sock, self._options.read_timeout)
        return None

    def _post_proxied(self, body: bytes, fresh: bool = False) -> Answer:
        try:
            response = self._proxied.request(
                "POST", self._url, body=body, headers=self._headers, retries=False, redirect=False
            )
        except urllib3.exceptions.ProtocolError as exc:
            if not fresh:  # a kept-alive connection closed while idle: once more on a new one
                return self._post_proxied(body, fresh=True)
            return _failure(exc, FAILED)
        except urllib3.exceptions.HTTPError as exc:
            kind = UNREACHABLE if isinstance(exc, _NOT_CONNECTED) else FAILED
            return _failure(exc, kind)
        text = response.data[:2048].decode("utf-8", "replace")
        return Answer(response.status, text, parse_retry_after(response.headers.get("retry-after")))

    def close(self) -> None:
        """Close the connection; the next post opens a new one."""
        if self._proxied is not None:
            self._proxied.clear()
            return
        connection = self._connection
        self._reader = self._connection = None
        if connection is not None:
            with swallowed:
                connection.close()


#: What a server closing an idle kept-alive connection looks like on the next use.
_IDLE_CLOSE = (http1.ClosedBeforeAnswer, ConnectionResetError, BrokenPipeError)
#: urllib3's errors for "never connected": NewConnectionError and
#: NameResolutionError are ConnectTimeoutError subclasses.
_NOT_CONNECTED = (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ProxyError)


def _failure(exc: Exception, kind: str) -> Answer:
    if isinstance(exc, (ssl.SSLError, urllib3.exceptions.SSLError)) or (
        type(exc).__name__ == "CertificateError"  # urllib3 1.26's own host-name check
    ):
        kind = TLS
    # urllib3's errors keep the cause in .reason; ssl's .reason is only a code
    # ("CERTIFICATE_VERIFY_FAILED"), and its text says which check failed.
    reason = None if isinstance(exc, ssl.SSLError) else getattr(exc, "reason", None)
    return Answer(0, "", error=f"{type(exc).__name__}: {reason or exc}"[:300], failure=kind)
