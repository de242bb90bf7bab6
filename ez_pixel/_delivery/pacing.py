"""When the worker delivers: not while the app is busy, and without being woken mid-burst.

Building and sending an event takes the GIL from the app, and an app that
writes to a console releases it on every write, so delivering during a
burst of errors would slow every call of the burst. The worker waits until
the app has been quiet for :data:`QUIET_PERIOD` (no job waits more than
:data:`MAX_DEFER`); a half-full queue, a flush and a close do not wait. An
idle worker that delivered recently watches the queue rather than being
woken by the next job (:data:`WATCH_PERIOD`, :data:`WATCH_INTERVAL`): a
wake-up costs the app a thread switch at its next error.
"""

import threading
import time
from typing import Deque

from .job import Job

#: Seconds without a new job after which the worker delivers what is queued.
QUIET_PERIOD = 0.015
#: Seconds a job waits at most for the app to go quiet before it is delivered regardless.
MAX_DEFER = 1.0
#: While jobs keep coming (the latest two less than this many seconds apart,
#: the latest less than this many seconds ago), the idle worker looks at the
#: queue every ``WATCH_INTERVAL`` rather than being woken by the next job.
WATCH_PERIOD = 10.0
WATCH_INTERVAL = 0.5


class Pacing:
    """The worker's waits, mixed into it (its queue, lock and clock are theirs)."""

    # The worker's state this part works on.
    _wake: threading.Condition
    _queue: Deque[Job]
    _idle: bool
    _urgent: int
    _eager_at: int
    _last_submit: float
    _previous_submit: float
    #: Times in a row the worker found the app busy (see :meth:`_defer`).
    _busy_checks: int

    def _wait_for_work(self) -> None:
        """Wait, with the lock held, until a job may be queued.

        While jobs keep coming (see :data:`WATCH_PERIOD`) the worker looks at
        the queue every :data:`WATCH_INTERVAL` instead of asking to be woken:
        waking it costs the app a thread switch at its next error, which,
        next to a console handler, takes the GIL from the app in the middle
        of its work. Otherwise (a lone error, or none for a while) it sleeps
        until a submit wakes it, without polling.
        """
        latest = self._last_submit
        if (
            latest - self._previous_submit < WATCH_PERIOD
            and time.monotonic() - latest < WATCH_PERIOD
        ):
            self._wake.wait(WATCH_INTERVAL)
            return
        self._idle = True
        self._wake.wait()
        self._idle = False

    def _defer(self) -> bool:
        """Wait, with the lock held, while the app is still queueing jobs.

        True after waiting (the caller looks at the queue afresh), False when
        the first job is due: the app has queued nothing (nor had a job dropped
        as a flood or for a full queue) for ``QUIET_PERIOD``,
        the job has waited ``MAX_DEFER``, the queue is half full, or a flush
        or close is waiting. A wait ends early on flush or close only: a
        submit does not wake a deferring worker, so a burst costs the app no
        wake-ups.

        Each time it finds the app still busy it waits twice as long before
        looking again (never past the ``MAX_DEFER`` bound): waking takes the
        GIL back from an app that is busy, and an app that writes between
        errors (a console, structlog's ``print``) hands the GIL over so often
        that a waking thread spins on it for up to the switch interval (5 ms)
        each time. The end of a burst is then noticed a little later, at most
        as long after it ended as the burst lasted.
        """
        if self._urgent or len(self._queue) >= self._eager_at:
            self._busy_checks = 0
            return False
        now = time.monotonic()
        deadline = self._queue[0].queued_at + MAX_DEFER
        quiet_at = self._last_submit + QUIET_PERIOD
        if now >= quiet_at or now >= deadline:
            self._busy_checks = 0
            return False
        patience = QUIET_PERIOD * (1 << min(self._busy_checks, 16))
        self._busy_checks += 1
        self._wake.wait(min(deadline, max(quiet_at, now + patience)) - now)
        return True
