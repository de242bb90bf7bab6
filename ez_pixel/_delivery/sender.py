"""Sending one body: POST it until the retry policy says stop, and say why on stderr.

The sender knows bodies, not events. What an answer means (retry, back off,
drop, or "unreachable": spool it) is the policy's (:mod:`.retry`); the sender
acts on the verdict, keeps the consecutive-failure count that makes the whole
worker back off, and warns once per cause. The wait between tries is the
worker's (it wakes early on close), handed in as ``pause``.
"""

import threading
from collections import Counter
from typing import Callable, Optional, Set, Tuple

from .._stderr import say
from ..options import Options, mask_key
from . import retry
from .answer import Answer, Poster

# How one body's delivery ended, besides "rejected_<status>".
SENT = retry.SENT
UNREACHABLE = retry.NOT_REACHED
EXHAUSTED = retry.EXHAUSTED
UNTRUSTED = retry.UNTRUSTED
STOPPED = "shutdown"

# What a warning is about: each is said once per worker (and first words).
WARN_TLS = "tls_untrusted"
WARN_UNREACHABLE = "unreachable"
WARN_EXHAUSTED = "retries_exhausted"
WARN_SPOOL = "spool_unwritable"
WARN_SETUP = "transport_setup"
WARN_BEFORE_SEND = "before_send"

_REJECTION_HINTS = {
    400: "the server rejected an event as malformed",
    401: "the server does not know project key {key}",
    403: "the server refused project key {key}",
    404: "nothing accepts events at {url} (404)",
    413: "an event was too large for the server",
    429: "the project has reached the server's cap of error groups; new ones are refused",
}


class Warnings:
    """Says each cause of trouble on stderr once (its key and its first words)."""

    def __init__(self) -> None:
        self._said: Set[Tuple[str, str]] = set()

    def once(self, key: str, message: str) -> None:
        """Say ``message`` unless this ``key`` said the same first words before."""
        cause = (key, message[:40])
        if cause not in self._said:
            self._said.add(cause)
            say(message)


class Sender:
    """POSTs bodies through one transport, under one retry policy."""

    def __init__(
        self,
        options: Options,
        policy: retry.Backoff,
        counts: "Counter[str]",
        warnings: Warnings,
        wake: threading.Condition,
        pause: Callable[[float], bool],
    ) -> None:
        self._options = options
        self.policy = policy
        self._counts = counts
        self._warnings = warnings
        self._wake = wake
        self._pause = pause
        #: Consecutive failed tries, across bodies: the backoff is the worker's.
        self.failures = 0
        self.transport: Optional[Poster] = None

    def connect(self) -> None:
        """Set up the transport now (TLS loads the CA certificates); warn if it cannot be."""
        from .transport import Transport

        try:
            self.transport = Transport(self._options)
        except Exception as exc:  # e.g. a ca_certs file that cannot be read
            url = self._options.ingest_url
            self._warnings.once(WARN_SETUP, f"cannot set up delivery to {url}: {exc}")

    def close(self) -> None:
        """Close the transport's connections."""
        if self.transport is not None:
            self.transport.close()

    def send(
        self,
        body: bytes,
        what: str,
        meanwhile: Optional[Callable[[], None]] = None,
        *,
        may_spool: bool = False,
    ) -> str:
        """POST ``body`` until it is stored, refused, or out of retries; the outcome.

        With ``may_spool`` an unreachable server ends the try at once
        (:data:`UNREACHABLE`) so the caller can put the body on disk.
        ``meanwhile`` runs while the server works on the request.
        """
        if self.transport is None:
            from .transport import Transport

            self.transport = Transport(self._options)
        attempts = 0
        while True:
            answer = self.transport.post(body, meanwhile)
            self._debug(what, answer, attempts)
            verdict, attempts = self.policy.classify(answer, attempts)
            if verdict == retry.SENT:
                self.failures = 0
                self._counts["sent"] += 1
                return SENT
            if verdict == retry.REJECTED:
                self.failures = 0
                self._warn_rejected(answer)
                return f"rejected_{answer.status}"
            if verdict == retry.UNTRUSTED:
                self._warnings.once(
                    WARN_TLS, f"{answer.error} (event dropped; see the ca_certs option)"
                )
                return UNTRUSTED
            with self._wake:
                self.failures += 1
                self._wake.notify_all()  # a flush() may give up on a server that is down
            if verdict == retry.NOT_REACHED:
                url = self._options.ingest_url
                self._warnings.once(WARN_UNREACHABLE, f"cannot reach {url}: {answer.error}")
                if may_spool:
                    return UNREACHABLE
            elif verdict == retry.EXHAUSTED:
                self._warnings.once(
                    WARN_EXHAUSTED, f"an event was dropped after {attempts - 1} retries"
                )
                return EXHAUSTED
            self._counts["retried"] += 1
            if self._pause(self.policy.delay(self.failures, answer.retry_after)):
                return STOPPED

    def _warn_rejected(self, answer: Answer) -> None:
        hint = _REJECTION_HINTS.get(answer.status, "the server answered {status}").format(
            key=mask_key(self._options.project_key),
            url=self._options.ingest_url,
            status=answer.status,
        )
        self._warnings.once(
            f"rejected_{answer.status}", f"{hint}: {answer.body.strip()[:200]} (event dropped)"
        )

    def _debug(self, what: str, answer: Answer, attempts: int) -> None:
        if self._options.debug:
            outcome = answer.status or f"{answer.failure}: {answer.error}"
            reply = answer.body.strip()[:120]
            say(f"sent {what} (attempt {attempts + 1}) -> {outcome} {reply}")
