"""What a failed try means, and how long to wait before the next: an immutable policy.

:meth:`Backoff.classify` is the one place that says what an answer means for
the body that got it (stored, refused for good, untrusted, unreachable, worth
another try, out of tries); the sender only acts on the verdict.
"""

from typing import NamedTuple, Optional

from .answer import TLS, UNREACHABLE, Answer

# What one answer means for the body that got it.
SENT = "sent"  # stored (or already there): done
REJECTED = "rejected"  # refused for good: drop, do not retry
UNTRUSTED = "tls_untrusted"  # the certificate was not trusted: drop
NOT_REACHED = "unreachable"  # never connected: wait (or spool); the body's budget is untouched
RETRY = "retry"  # the server saw it and failed: back off, try again
EXHAUSTED = "retries_exhausted"  # the server failed it once too often: drop


class Verdict(NamedTuple):
    """What :meth:`Backoff.classify` made of one answer."""

    what: str
    #: Tries the server has failed for this body so far.
    attempts: int


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

    def classify(self, answer: Answer, attempts: int = 0) -> Verdict:
        """What ``answer`` means for a body the server has failed ``attempts`` times before.

        Like urllib3's ``Retry.increment``: the policy stays as it is; the
        verdict carries the new count. Only answers from a server that saw the
        body spend its budget; an unreachable server does not.
        """
        if is_success(answer.status):
            return Verdict(SENT, attempts)
        if answer.status and is_permanent(answer.status, answer.body, answer.retry_after):
            return Verdict(REJECTED, attempts)
        if answer.failure == TLS:
            return Verdict(UNTRUSTED, attempts)
        if answer.failure == UNREACHABLE:
            return Verdict(NOT_REACHED, attempts)
        attempts += 1
        return Verdict(EXHAUSTED if self.gives_up(attempts) else RETRY, attempts)


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
