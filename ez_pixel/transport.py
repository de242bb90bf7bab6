"""One HTTP POST per event over a kept-alive urllib3 connection.

urllib3 is imported here only, and this module only by the worker thread (and
``ez-pixel send-test``), so ``import ez_pixel`` and ``init_pixel()`` stay cheap.
"""

import platform
import urllib.request
from typing import Any, Dict, NamedTuple, Optional
from urllib.parse import urlsplit

import urllib3

from ._version import __version__
from .contract import KEY_HEADER
from .options import Options
from .retry import parse_retry_after

#: How a POST ended when no HTTP answer came back.
UNREACHABLE = "unreachable"  # never connected: refused, DNS, connect timeout, proxy down
FAILED = "failed"  # connected, then no answer: read timeout, reset
TLS = "tls"  # the certificate was not trusted: no retry can fix that


class Answer(NamedTuple):
    """What came back for one POST: an HTTP status, or 0 with ``failure`` and ``error``."""

    status: int
    body: str
    retry_after: Optional[float] = None
    error: str = ""
    failure: str = ""


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


def _manager(options: Options) -> Any:
    kwargs: Dict[str, Any] = {
        "num_pools": 2,
        "maxsize": 1,
        "timeout": urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
        "retries": False,
        "cert_reqs": "CERT_REQUIRED",
    }
    if options.ca_certs:
        kwargs["ca_certs"] = options.ca_certs
    proxy = proxy_for(options.ingest_url, options.proxy_url)
    if proxy:
        return urllib3.ProxyManager(proxy, **kwargs)
    return urllib3.PoolManager(**kwargs)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Transport:
    """Posts encoded events to one ingest URL through a single pooled connection."""

    def __init__(self, options: Options) -> None:
        self._url = options.ingest_url
        self._headers: Dict[str, str] = {
            "content-type": "application/json",
            KEY_HEADER: options.project_key,
            "user-agent": user_agent(),
        }
        self._manager = _manager(options)
        # Without a proxy, post straight to the one host's pool: the manager's
        # per-request URL parsing and pool lookup cost more than the rest.
        self._pool = (
            None
            if isinstance(self._manager, urllib3.ProxyManager)
            else self._manager.connection_from_url(self._url)
        )
        self._target = _target(self._url)

    def post(self, body: bytes) -> Answer:
        """POST ``body``; never raises for network trouble."""
        try:
            return self._post_once(body)
        except urllib3.exceptions.ProtocolError:
            # The server closed a kept-alive connection between two events; the
            # pool drops it, and one immediate try on a fresh one is safe
            # because the server deduplicates by event_id.
            pass
        except urllib3.exceptions.HTTPError as exc:
            return _failure(exc)
        try:
            return self._post_once(body)
        except urllib3.exceptions.HTTPError as exc:
            return _failure(exc)

    def _post_once(self, body: bytes) -> Answer:
        if self._pool is not None:
            response = self._pool.urlopen(
                "POST",
                self._target,
                body=body,
                headers=self._headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
            )
        else:
            response = self._manager.request(
                "POST", self._url, body=body, headers=self._headers, retries=False, redirect=False
            )
        text = response.data[:2048].decode("utf-8", "replace")
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Answer(response.status, text, retry_after)

    def close(self) -> None:
        """Close the pooled connections."""
        self._manager.clear()


def _failure(exc: Exception) -> Answer:
    errors = urllib3.exceptions
    if isinstance(exc, errors.SSLError):
        failure = TLS
    elif isinstance(exc, (errors.ConnectTimeoutError, errors.ProxyError)):
        failure = UNREACHABLE  # NewConnectionError and NameResolutionError are subclasses
    else:
        failure = FAILED
    reason = getattr(exc, "reason", None)
    return Answer(0, "", error=f"{type(exc).__name__}: {reason or exc}"[:300], failure=failure)
