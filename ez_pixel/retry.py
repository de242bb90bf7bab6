"""When to try an event again, and how long to wait first: an immutable policy."""

from typing import NamedTuple, Optional

#: Answers that mean "this event will never be accepted": drop it, do not retry.
PERMANENT_STATUSES = frozenset((400, 401, 403, 404, 405, 410, 413, 422))


class Backoff(NamedTuple):
    """Exponential backoff: ``base``, then doubling, each wait at most ``max_delay``.

    With the defaults the waits are 0.2, 0.4, 0.8, 1.6 and 3.2 seconds. A
    server's ``Retry-After`` replaces the computed wait, up to
    ``max_retry_after`` so that a hostile or confused server cannot park the
    worker for hours.
    """

    base: float = 0.2
    factor: float = 2.0
    max_delay: float = 30.0
    max_retries: int = 5
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: Optional[float] = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        return min(self.base * self.factor ** (retry - 1), self.max_delay)

    def gives_up(self, retry: int) -> bool:
        """Whether retry number ``retry`` is past the budget."""
        return retry > self.max_retries


#: What the ingest server says in a 429 when the project has as many error
#: groups as it may have: this event's new fingerprint will not be accepted
#: (events of known fingerprints still are), so retrying it only costs time.
FINGERPRINT_CAP = "fingerprint cap"


def is_permanent(status: int, body: str = "", retry_after: Optional[float] = None) -> bool:
    """An answer that no retry can change (the event or the key is rejected).

    A 429 is a rate limit to wait out, unless it says the project's
    fingerprint cap is reached and gives no ``Retry-After``.
    """
    if status == 429:
        return retry_after is None and FINGERPRINT_CAP in body
    return status in PERMANENT_STATUSES or (300 <= status < 400)


def is_success(status: int) -> bool:
    """The server stored the event (or already had it)."""
    return 200 <= status < 300


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a ``Retry-After`` header; HTTP dates and junk give None."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
