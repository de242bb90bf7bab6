"""The flood gate: one error repeating in a hot loop must not fill the queue.

An error may hold at most a tenth of the queue, so a different error logged
meanwhile still gets in; once it has filled that share it is kept out for
:data:`FLOOD_PAUSE` seconds, so a loop raising it forever sends a burst a
second rather than all it can. What counts as "one error" is the job's key,
which the capture stage computes (type and innermost frame) when the gate
asks for it: the gate only counts keys, and only while the queue could hold a
share of one.
"""

import time
from typing import Deque, Dict, Hashable

from .job import Job

#: Seconds an error that filled its share of the queue is kept out. In a hot
#: loop it then sends bursts of ``queue_size // 10`` events a second at most,
#: instead of keeping the worker (and the GIL) busy for as long as it lasts.
FLOOD_PAUSE = 1.0

#: Keys remembered as flooding at most; a longer list is forgotten at once.
_MAX_FLOODING = 1024


class FloodGate:
    """Counts queued jobs per key and says which keys flood; the worker's lock guards it."""

    def __init__(self, queue_size: int) -> None:
        self.limit = max(1, queue_size // 10)
        self._waiting: Dict[Hashable, int] = {}
        #: Keys that filled their share of the queue: when they may enter again.
        self._flooding: Dict[Hashable, float] = {}
        #: Whether some key may be refused: one has filled its share since the
        #: queue was last empty, or is paused. While False no key is refused,
        #: so a caller need not ask before it has its job (see :meth:`leave`).
        self.wary = False
        #: Whether jobs are counted per key (see :meth:`admit`).
        self._counting = False

    def clear(self) -> None:
        """Forget every key (a forked child starts with an empty queue)."""
        self._waiting.clear()
        self._flooding.clear()
        self.wary = self._counting = False

    def flooding(self, key: Hashable) -> bool:
        """Whether ``key`` fills its share of the queue, or is paused after doing so."""
        if self._waiting.get(key, 0) >= self.limit:
            if key not in self._flooding:
                if len(self._flooding) >= _MAX_FLOODING:
                    self._flooding.clear()
                self._flooding[key] = time.monotonic() + FLOOD_PAUSE
                self.wary = True
            return True
        until = self._flooding.get(key)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        self._flooding.pop(key, None)
        return False

    def refuses(self, key: Hashable) -> bool:
        """:meth:`flooding`, without a call for a key paused, or neither full nor paused."""
        until = self._flooding.get(key)
        if until is None:
            if self._waiting.get(key, 0) < self.limit:
                return False
        elif time.monotonic() < until:
            return True
        return self.flooding(key)

    def admit(self, job: Job, queue: "Deque[Job]") -> bool:
        """Count ``job`` in, unless its key floods (then False).

        ``queue`` holds the jobs waiting now. While it is shorter than a share
        and no key is paused, no key can fill its share, so nothing is counted
        and no key is asked for (the usual case costs a length and a flag);
        once one could, the count starts from the jobs in ``queue`` and goes on
        until the queue is empty.
        """
        if not self._counting:
            if len(queue) + 1 < self.limit and not self.wary:
                return True
            self._counting = True
            for queued in queue:
                self._waiting[queued.key] = self._waiting.get(queued.key, 0) + 1
        key = job.key
        waiting = self._waiting.get(key, 0)
        if (waiting >= self.limit or key in self._flooding) and self.flooding(key):
            return False
        self._waiting[key] = waiting + 1
        if waiting + 1 >= self.limit:
            self.wary = True
        return True

    def leave(self, job: Job) -> None:
        """``job`` left the queue."""
        if not self._counting:
            return
        key = job.key
        left = self._waiting.get(key, 1) - 1
        if left > 0:
            self._waiting[key] = left
            return
        self._waiting.pop(key, None)
        if not self._waiting:  # the queue is empty
            self._counting = False
            if self.wary:
                self._forget_pauses_ended()

    def _forget_pauses_ended(self) -> None:
        """With the queue empty, forget the pauses that are over; wary while one is not."""
        now = time.monotonic()
        for key in [key for key, until in self._flooding.items() if until <= now]:
            del self._flooding[key]
        self.wary = bool(self._flooding)
