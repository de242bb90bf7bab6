"""What came back for one POST, and the one-method interface that produces it.

Kept apart from :mod:`~ez_pixel._delivery.transport` so that the retry policy
and the sender can be read, and tested, without urllib3 or sockets: anything
with ``post(body, meanwhile) -> Answer`` and ``close()`` delivers.
"""

from typing import Callable, NamedTuple, Optional

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python 3.7 has no Protocol; we need 3.8+
    Protocol = object  # type: ignore[assignment]

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


class Poster(Protocol):
    """What the sender needs of a transport."""

    def post(self, body: bytes, meanwhile: Optional[Callable[[], None]] = None) -> Answer:
        """POST ``body`` once; ``meanwhile`` runs while the server works on it."""

    def close(self) -> None:
        """Release connections."""
