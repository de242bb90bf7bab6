"""The worker's spool policy: when bodies go to disk, and how they come back.

While the server is unreachable the body in flight, then the whole queue, go
to the spool directory (:mod:`.spool`), and so does every body queued during
the outage, as soon as the worker takes it; the worker then replays the spool
before its queue, one body at a time, as soon as the server answers, and a
new process replays what an earlier one left. A disk that refuses a write
turns the spool off: what was not written stays in memory.
"""

import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Deque, List, Optional

from ..options import Options
from .job import Job
from .sender import SENT, STOPPED, UNREACHABLE, WARN_SPOOL, Sender, Warnings

if TYPE_CHECKING:
    from .flood import FloodGate
    from .spool import Spool


class Spooling:
    """Spill and replay, mixed into the worker (its queue and lock are theirs)."""

    # The worker's state this part works on.
    counts: "Counter[str]"
    warnings: Warnings
    sender: Sender
    _lock: threading.Lock
    _wake: threading.Condition
    _queue: Deque[Job]
    flood_gate: "FloodGate"
    _thread: Optional[threading.Thread]
    _unfinished: int
    _replay: bool
    _idle: bool
    _stopping: bool
    _spool: "Optional[Spool]"

    def _start(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _body(self, job: Job) -> Optional[bytes]:
        raise NotImplementedError

    def _open_spool(self, options: Options) -> None:
        """Open the spool directory, if any, and replay what an earlier process left."""
        self._spool = None
        if not options.spool_dir:
            return
        from .spool import Spool

        spool = Spool(
            options.spool_dir,
            options.spool_max_events,
            options.spool_max_bytes,
            project_key=options.project_key,
            on_bad=self._count_bad_file,
        )
        if not spool.usable:
            self.warnings.once(
                WARN_SPOOL,
                f"spool_dir {spool.directory} is a link or another user's directory; not spooling",
            )
            return
        self._spool = spool
        spool.release_stale_claims()
        if self._spool.has_waiting():
            self._begin_replay()

    def _count_bad_file(self) -> None:
        self.counts["dropped_spool_unreadable"] += 1

    def _spool_at_close(self, left: List[Job], in_flight: Optional[bytes]) -> int:
        """Write what close() found undelivered to disk; how many were written."""
        if self._spool is None:
            return 0
        written = 0
        bodies = [self._body(job) for job in left]
        if in_flight is not None:
            bodies.insert(0, in_flight)  # sent again later; the server deduplicates
        for body in bodies:
            if body is not None and self._spool.write(body):
                self.counts["spooled"] += 1
                written += 1
        return written

    def _spill(self, body: bytes) -> bool:
        """The server is unreachable: move this body, then the queue, to disk.

        Stops at the first write the disk refuses, and from then on works
        without a spool: what was not written stays in memory.
        """
        assert self._spool is not None
        if not self._spool.write(body):
            self._disable_spool()
            return False
        self.counts["spooled"] += 1
        self._spill_queue()
        self._begin_replay()
        self._outage_wait()
        return True

    def _spill_queue(self) -> None:
        """Move every queued body to disk, oldest first; a refused write turns the spool off."""
        while self._spool is not None:
            with self._lock:
                if not self._queue:
                    return
                job = self._queue.popleft()
                self.flood_gate.leave(job)
            item = self._body(job)
            if item is not None and not self._spool.write(item):
                with self._lock:
                    self._queue.appendleft(job)
                self._disable_spool()
                return
            if item is not None:
                self.counts["spooled"] += 1
            self._finish()

    def _outage_wait(self) -> None:
        """Back off while the server is unreachable, moving each new body to disk as it comes.

        Events reported during an outage reach the disk as soon as the worker
        takes them (not at the end of a backoff that grows to 30 s), so a
        process killed meanwhile loses none of them.
        """
        deadline = time.monotonic() + self.sender.policy.delay(self.sender.failures)
        while self._spool is not None:
            with self._lock:
                self._idle = True  # a submit wakes this wait
                self._wake.wait_for(
                    lambda: self._stopping or bool(self._queue),
                    max(0.0, deadline - time.monotonic()),
                )
                self._idle = False
                if self._stopping or not self._queue:
                    return
            self._spill_queue()

    def _disable_spool(self) -> None:
        if self._spool is not None:
            self.warnings.once(
                WARN_SPOOL, f"cannot write to spool_dir {self._spool.directory}; not spooling"
            )
        self._spool = None

    def _begin_replay(self) -> None:
        """Send the spool's bodies before the queue's; flush() waits for them."""
        with self._lock:
            if not self._replay:
                self._replay = True
                self._unfinished += 1
                if self._thread is None:
                    self._start()
                self._wake.notify()

    def _end_replay(self) -> None:
        with self._lock:
            if self._replay:
                self._replay = False
                self._unfinished -= 1
                self._wake.notify_all()

    def _replay_one(self) -> None:
        spool = self._spool
        claimed = spool.claim() if spool is not None else None
        if spool is None or claimed is None:
            self._end_replay()
            return
        path, body = claimed
        with self._lock:
            self._unfinished += 1
        try:
            outcome = self.sender.send(body, "spooled event", may_spool=True)
            if outcome == UNREACHABLE:
                spool.unclaim(path)
                self._outage_wait()
                return
            if outcome == STOPPED:
                spool.unclaim(path)
                return
            spool.discard(path)
            if outcome == SENT:
                self.counts["replayed"] += 1
            else:
                self.counts[f"dropped_{outcome}"] += 1
        finally:
            with self._lock:
                self._unfinished -= 1
                self._wake.notify_all()
