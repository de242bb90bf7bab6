"""The bounded queue and the one background thread that runs delivery jobs.

The caller's only cost is an append under a lock. A full queue drops the new
job, and so does a flood (see :mod:`.flood`). The worker knows nothing about
events: a :class:`~.job.Job` brings its flood key, the owner gives the
worker the function that builds a job's body on this thread
(:attr:`Worker.build`), and the :class:`~.sender.Sender` gets the body to
the server under the retry policy.

The thread starts when its owner says so (:meth:`Worker.start`; a job queued
on a worker nobody started starts it), sleeps on a condition when idle (no
polling after a lone job or once the app has queued nothing for
:data:`~.pacing.WATCH_PERIOD`; see :mod:`.pacing`), and sends one body at a
time, in order. Failures back off as a whole: while the server is
unreachable only the oldest body probes it, with waits growing to
``Backoff.max_delay``, and no body spends its retry budget on a server
that is not there. With a spool directory, bodies that cannot be
delivered (server unreachable, or still queued at exit) go to disk and are
sent first once the server, or the next process, can deliver them (see
:mod:`.spooling`). Forks start the worker afresh (see :mod:`.fork`).

While the app keeps queueing jobs, the worker waits (see :mod:`.pacing`):
building and sending an event takes the GIL from the app, and an app that
writes to a console releases it on every write, so delivering during its burst
would slow every call of the burst. The burst is delivered once the app has
been quiet for :data:`~.pacing.QUIET_PERIOD`, and no job waits more than
:data:`~.pacing.MAX_DEFER` for that; a half-full queue, :meth:`Worker.flush` and
:meth:`Worker.close` do not wait at all.
"""

import os
import threading
import time
from collections import Counter, deque
from typing import Any, Callable, Deque, Hashable, Optional

from .._guard import INTERNAL_ERRORS, Swallow, sdk_thread, swallowed
from .._stderr import say
from ..options import Options
from . import fork
from .flood import FloodGate
from .job import Drop, Job
from .pacing import WATCH_PERIOD, Pacing
from .retry import Backoff
from .sender import SENT, STOPPED, UNREACHABLE, Sender, Warnings
from .spooling import Spooling

#: Whether a fork can happen without :mod:`.fork`'s at-fork hook resetting the
#: worker in the child; then every submit compares process ids (a system call).
_FORKS_UNSEEN = not hasattr(os, "register_at_fork")


def _no_body(job: Job) -> None:
    return None


class Worker(Spooling, Pacing):
    """Runs queued jobs, in order, on one daemon thread."""

    def __init__(self, options: Options, on_start: Optional[Callable[[], None]] = None) -> None:
        self._options = options
        #: Runs first on the worker thread, with the import guard held.
        self._on_start = on_start
        #: Makes a job's request body; the owner sets it (a job the worker
        #: cannot build is dropped as invalid).
        self.build: Callable[[Any], Optional[bytes]] = _no_body
        self._backoff = Backoff(max_retries=options.max_retries)
        self.counts: Counter[str] = Counter()
        #: Jobs queued so far (a plain number: the one count every job adds to).
        self.queued = 0
        self.warnings = Warnings()
        #: Counts queued jobs per flood key (under the lock); its ``wary`` may
        #: be read without it (see :meth:`admits`).
        self.flood_gate = FloodGate(options.queue_size)
        self._reset()
        fork.workers.add(self)
        #: In a multiprocessing child, wait for each event's delivery (see :mod:`.fork`).
        self.deliver_each = fork.in_multiprocessing_child()
        self._open_spool(options)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._queue_size = self._options.queue_size
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: Deque[Job] = deque()
        self.flood_gate.clear()
        self._unfinished = 0  # queued, in flight, or being replayed from the spool
        self._stopping = False
        self._replay = False
        self._in_flight: Optional[bytes] = None
        self._thread: Optional[threading.Thread] = None
        self._idle = False  # the worker waits for work: a submit must wake it
        #: ``time.monotonic()`` of the latest job queued and of the one before (none yet).
        self._last_submit = self._previous_submit = -WATCH_PERIOD
        self._urgent = 0  # flush() calls waiting: deliver now, never defer
        self._busy_checks = 0
        #: A queue this long is delivered without waiting for the app to go quiet.
        self._eager_at = max(1, self._options.queue_size // 2)
        self.sender = Sender(
            self._options, self._backoff, self.counts, self.warnings, self._wake, self._pause
        )

    # -- the caller's side ------------------------------------------------

    def submit(self, job: Job) -> bool:
        """Queue ``job`` without blocking; False when it was dropped."""
        if _FORKS_UNSEEN and self._pid != os.getpid():
            self.after_fork()
        with self._lock:
            queue = self._queue
            if self._stopping:
                self.counts["dropped_closed"] += 1
                return False
            if len(queue) >= self._queue_size:
                self.counts["dropped_queue_full"] += 1
                return False
            if not self.flood_gate.admit(job, queue):
                self.counts["dropped_flood"] += 1
                self._last_submit = time.monotonic()
                return False
            self._previous_submit = self._last_submit
            job.queued_at = self._last_submit = time.monotonic()
            queue.append(job)
            self._unfinished += 1
            self.queued += 1
            if self._thread is None:
                self._start()
            elif self._idle or len(queue) == self._eager_at:
                self._idle = False  # woken once: the next submits need not notify
                # all: a flush() may be waiting on the same condition; a half-full
                # queue ends a deferring worker's wait (see _defer)
                self._wake.notify_all()
        if self.deliver_each and threading.current_thread() is not self._thread:
            self._deliver_now()
        return True

    def _deliver_now(self) -> None:
        """Wait for the event just queued to be delivered (a multiprocessing child).

        Pool workers are terminated (SIGTERM) as soon as their results are in,
        so an event still queued when the task returns would be lost. The wait
        is bounded by ``shutdown_timeout``; once it runs out (the server is
        slow or down) the child stops waiting and queues as usual.
        """
        if not self.flush(self._options.shutdown_timeout):
            self.deliver_each = False

    def admits(self, key: Hashable) -> bool:
        """Whether a job with ``key`` would be queued now; counts the drop if not.

        Lets the caller skip the rest of its capture during a flood. A quick
        look without the lock: :meth:`submit` decides for good.
        """
        if len(self._queue) >= self._queue_size:
            reason = "dropped_queue_full"
        elif self.flood_gate.refuses(key):
            reason = "dropped_flood"
        else:
            return True
        with self._lock:
            self.counts[reason] += 1
            self._last_submit = time.monotonic()  # a flood is the app at work: see _defer
        return False

    def start(self) -> None:
        """Start the thread now, so it loads what delivery needs while the app starts.

        That is urllib3, ``ssl`` and the CA certificates, about 100 ms of work
        that would otherwise compete with the app for the GIL at its first error.
        """
        with self._lock:
            if self._thread is None and not self._stopping:
                self._start()

    def count(self, name: str) -> None:
        """Add one to counter ``name`` from any thread."""
        with self._lock:
            self.counts[name] += 1

    def warn_once(self, key: str, message: str) -> None:
        """Say ``message`` on stderr once per cause for this worker."""
        self.warnings.once(key, message)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until nothing is queued or in flight; False if time ran out.

        Bodies handed to the spool count as done: they are on disk. Without a
        timeout it also gives up (False) once the server has failed more
        consecutive tries than ``max_retries``: the jobs stay queued, but a
        script flushing before exit must not hang on a server that is down.
        """
        with self._lock:
            if self._thread is None and self._queue:
                self._start()
            if self._thread is None:  # threads cannot start any more (shutdown)
                return self._unfinished == 0
            limit = self._backoff.max_retries if timeout is None else float("inf")
            sender = self.sender
            self._urgent += 1  # a worker deferring delivery must deliver now
            self._wake.notify_all()
            try:
                self._wake.wait_for(
                    lambda: self._unfinished == 0 or sender.failures > limit, timeout
                )
            finally:
                self._urgent -= 1
            return self._unfinished == 0

    def close(self, timeout: Optional[float] = None) -> int:
        """Flush for up to ``timeout``, then stop; returns jobs neither sent nor spooled."""
        self.flush(self._options.shutdown_timeout if timeout is None else timeout)
        with self._lock:
            self._stopping = True
            left = list(self._queue)
            self._queue.clear()
            in_flight = self._in_flight
            self._wake.notify_all()
        undelivered = len(left) + (1 if in_flight is not None else 0)
        undelivered -= self._spool_at_close(left, in_flight)
        self.counts["dropped_shutdown"] += undelivered
        if self._thread is None:
            self.sender.close()
        return undelivered

    def close_at_exit(self) -> None:
        """Close within the shutdown timeout and say on stderr what was left undelivered."""
        left = self.close()
        if left:
            say(
                f"{left} event(s) not delivered before exit "
                f"(shutdown_timeout={self._options.shutdown_timeout}s)"
            )

    @property
    def pending(self) -> int:
        """Jobs queued or in flight."""
        return self._unfinished

    def after_fork(self) -> None:
        """In a forked child: forget the parent's queue, thread and counters."""
        self.deliver_each = False  # until multiprocessing says this is its child
        self._reset()
        self.counts.clear()
        self.sender._counts = self.counts

    # -- the worker's side ------------------------------------------------

    def _start(self) -> None:
        thread = threading.Thread(target=self._run, name="ez-pixel-worker", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutting down: flush() reports what is left
            return
        self._thread = thread

    def _run(self) -> None:
        sdk_thread.active = True
        try:
            with fork.import_guard:
                self._load()
            while not self._stopping:
                if self._replay:
                    try:
                        self._replay_one()
                    except Exception:  # a surprise in the spool ends the replay, not the thread
                        self.count(INTERNAL_ERRORS)
                        self._end_replay()
                    continue
                with self._lock:
                    while not self._queue and not self._stopping and not self._replay:
                        self._wait_for_work()
                    if self._stopping or not self._queue or self._defer():
                        continue
                    job = self._queue.popleft()
                    self.flood_gate.leave(job)
                try:
                    self._deliver(job)
                except BaseException:
                    self.counts[INTERNAL_ERRORS] += 1
                finally:
                    self._finish()
        except BaseException:  # never a traceback from the worker, even at shutdown
            return
        finally:
            with swallowed:  # closing sockets at shutdown: nothing left to report to
                self.sender.close()

    def _load(self) -> None:
        """Import everything delivery needs, with the import guard held.

        The owner's ``on_start`` loads what building bodies needs; the idna
        codec is loaded here too, so that no import is ever under way on this
        thread when the process forks.
        """
        if self._on_start is not None:
            with Swallow(self.count):
                self._on_start()
        "ez-pixel.invalid".encode("idna")  # socket.getaddrinfo and urllib3 use this codec
        self.sender.connect()

    def _finish(self) -> None:
        with self._lock:
            self._unfinished -= 1
            self._in_flight = None
            if not self._unfinished:  # what flush() waits for; waking it sooner costs a switch
                self._wake.notify_all()

    def _deliver(self, job: Job) -> None:
        body = self._body(job)
        if body is None:
            return
        self._in_flight = body
        outcome = self.sender.send(
            body, job.name, self._build_next, may_spool=self._spool is not None
        )
        if outcome == UNREACHABLE and self._spool is not None and not self._spill(body):
            outcome = self.sender.send(body, job.name)  # now without a spool
        if outcome not in (SENT, STOPPED, UNREACHABLE):  # close() accounts for what it stopped
            self.counts[f"dropped_{outcome}"] += 1

    def _build_next(self) -> None:
        """Build the next queued job's body while the server answers this one."""
        with self._lock:
            upcoming = self._queue[0] if self._queue else None
        if upcoming is not None:
            self._body(upcoming)

    def _body(self, job: Job) -> Optional[bytes]:
        """The job's body, or None after counting why there is none; built once per job."""
        try:
            return job.body
        except AttributeError:  # not built yet: the slot is unset until then
            body = job.body = self._build(job)
            return body

    def _build(self, job: Job) -> Optional[bytes]:
        try:
            body = self.build(job)
        except Drop as drop:
            self.counts[f"dropped_{drop.reason}"] += 1
            return None
        except Exception:
            self.counts[INTERNAL_ERRORS] += 1
            body = None
        if body is None:
            self.counts["dropped_invalid"] += 1
        return body

    def _pause(self, seconds: float) -> bool:
        """Sleep, waking early on close; True when closing."""
        if self._options.debug:
            say(f"backing off {seconds:.1f}s")
        with self._lock:
            return self._wake.wait_for(lambda: self._stopping, seconds)
