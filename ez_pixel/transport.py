"""One HTTP POST per event over a kept-alive urllib3 connection.

urllib3 is imported here only, and this module only by the worker thread, so
``import ez_pixel`` and ``init_pixel()`` stay cheap for the application.
"""

import platform
from typing import Dict, NamedTuple, Optional

import urllib3

from ._version import __version__
from .contract import KEY_HEADER
from .options import Options
from .retry import parse_retry_after


class Answer(NamedTuple):
    """What came back for one POST: an HTTP status, or 0 and why there was none."""

    status: int
    body: str
    retry_after: Optional[float] = None
    error: str = ""


def user_agent() -> str:
    """``ez-pixel/<version>`` plus the Python and urllib3 versions."""
    return f"ez-pixel/{__version__} python/{platform.python_version()} urllib3/{_urllib3_version()}"


def _urllib3_version() -> str:
    return str(getattr(urllib3, "__version__", "?"))


class Transport:
    """Posts encoded events to one ingest URL through a single pooled connection."""

    def __init__(self, options: Options) -> None:
        self._url = options.ingest_url
        self._headers: Dict[str, str] = {
            "content-type": "application/json",
            KEY_HEADER: options.project_key,
            "user-agent": user_agent(),
        }
        self._pool = urllib3.PoolManager(
            num_pools=2,
            maxsize=1,
            timeout=urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
            retries=False,
        )

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
            return Answer(0, "", error=_describe(exc))
        try:
            return self._post_once(body)
        except urllib3.exceptions.HTTPError as exc:
            return Answer(0, "", error=_describe(exc))

    def _post_once(self, body: bytes) -> Answer:
        response = self._pool.request(
            "POST",
            self._url,
            body=body,
            headers=self._headers,
            retries=False,
            redirect=False,
        )
        text = response.data[:2048].decode("utf-8", "replace")
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Answer(response.status, text, retry_after)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()


def _describe(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"[:300]
