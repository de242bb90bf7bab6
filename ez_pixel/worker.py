"""The bounded queue and the one background thread that delivers it.

The caller's only cost is an append under a lock. A full queue drops the new
event, and so does a flood: one error repeating in a hot loop may hold at most
a tenth of the queue, so a different error logged meanwhile still gets in, and
once it has filled that share it is kept out for ``FLOOD_PAUSE`` seconds, so a
loop raising it forever sends a burst a second rather than all it can.

The thread starts with the client (see :meth:`Worker.start`), sleeps on a
condition when idle (no polling), and sends one event at a time, in order.
Failures back off as a whole: while the server is unreachable only the
oldest event probes it, with waits growing to ``Backoff.max_delay``, and no
event spends its retry budget on a server that is not there. With a spool
directory, events that cannot be delivered (server unreachable, or still
queued at exit) go to disk and are sent first once the server, or the next
process, can deliver them.

In a forked child the worker starts afresh: the parent's queue is discarded
so nothing is sent twice, and the thread and connection pool are new.
"""

import os
import sys
import threading
import time
import weakref
from collections import Counter, deque
from typing import TYPE_CHECKING, Callable, Deque, Dict, List, Optional, Set, Tuple

from ._stderr import say
from .capture import Capture, RawFrame
from .options import Options, mask_key
from .retry import Backoff, is_permanent, is_success

if TYPE_CHECKING:
    from .spool import Spool
    from .transport import Answer, Transport

#: Turns a capture into the request body, or None when it must be dropped.
Prepare = Callable[[Capture], Optional[bytes]]

#: Seconds an error that filled its share of the queue is kept out. In a hot
#: loop it then sends bursts of ``queue_size // 10`` events a second at most,
#: instead of keeping the worker (and the GIL) busy for as long as it lasts.
FLOOD_PAUSE = 1.0

#: Marks threads whose log records must never come back into ez-pixel.
sdk_thread = threading.local()

_workers: "weakref.WeakSet[Worker]" = weakref.WeakSet()

#: Held while the worker imports what delivery needs. A fork waits for it: a
#: child forked mid-import would inherit a module lock owned by a thread it
#: does not have, and fail to import that module ever after.
_import_guard = threading.Lock()
_guard_taken = threading.local()

# How one body's delivery ended, besides "rejected_<status>".
SENT = "sent"
UNREACHABLE = "unreachable"
EXHAUSTED = "retries_exhausted"
UNTRUSTED = "tls_untrusted"
STOPPED = "shutdown"


class Drop(Exception):
    """Raised by ``prepare`` when an event must not be sent; ``reason`` is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(
    type_name: str, frames: List[RawFrame], group: Optional[str] = None
) -> Tuple[object, ...]:
    """What makes two captures "the same error" for flood control: cheap, no hashing of code."""
    if frames:
        return (type_name, id(frames[0][0]), frames[0][1], group)
    return (type_name, group)


def _signature(capture: Capture) -> Tuple[object, ...]:
    if capture.flood_key is None:
        capture.flood_key = signature(capture.type_name, capture.frames, capture.group)
    return capture.flood_key


class Worker:
    """Delivers queued captures, in order, from one daemon thread."""

    def __init__(self, options: Options, prepare: Prepare) -> None:
        self._options = options
        self._prepare = prepare
        self._backoff = Backoff(max_retries=options.max_retries)
        self._flood_limit = max(1, options.queue_size // 10)
        self.counts: Counter[str] = Counter()
        self._warned: Set[Tuple[int, str]] = set()
        self._spool: Optional[Spool] = None
        if options.spool_dir:
            from . import spool

            self._spool = spool.Spool(
                options.spool_dir, options.spool_max_events, options.spool_max_bytes
            )
        self._reset()
        _workers.add(self)
        if self._spool is not None:
            self._spool.release_stale_claims()
            if self._spool.has_waiting():
                self._begin_replay()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: Deque[Capture] = deque()
        self._per_signature: Dict[Tuple[object, ...], int] = {}
        #: Errors that filled their share of the queue: when they may enter again.
        self._flooding: Dict[Tuple[object, ...], float] = {}
        self._unfinished = 0  # queued, in flight, or being replayed from the spool
        self._stopping = False
        self._replay = False
        self._failures = 0  # consecutive, across events: the backoff is the worker's
        self._in_flight: Optional[bytes] = None
        self._thread: Optional[threading.Thread] = None
        self._idle = False  # the worker waits for work: a submit must wake it
        self._transport: Optional[Transport] = None

    # -- the caller's side ------------------------------------------------

    def submit(self, capture: Capture) -> bool:
        """Queue ``capture`` without blocking; False when it was dropped."""
        if self._pid != os.getpid():
            self._after_fork()
        signature = _signature(capture)
        with self._lock:
            if self._stopping:
                self.counts["dropped_closed"] += 1
                return False
            if len(self._queue) >= self._options.queue_size:
                self.counts["dropped_queue_full"] += 1
                return False
            waiting = self._per_signature.get(signature, 0)
            if self._flooding_now(signature, waiting):
                self.counts["dropped_flood"] += 1
                return False
            self._per_signature[signature] = waiting + 1
            self._queue.append(capture)
            self._unfinished += 1
            self.counts["queued"] += 1
            if self._thread is None:
                self._start()
            elif self._idle:
                self._wake.notify_all()  # all: a flush() may be waiting on the same condition
        return True

    def admits(self, flood_key: Tuple[object, ...]) -> bool:
        """Whether an exception like this would be queued now; counts the drop if not.

        Lets the caller skip the rest of its capture during a flood. A quick
        look without the lock: :meth:`submit` decides for good.
        """
        reason = None
        if len(self._queue) >= self._options.queue_size:
            reason = "dropped_queue_full"
        elif self._flooding_now(flood_key, self._per_signature.get(flood_key, 0)):
            reason = "dropped_flood"
        if reason is None:
            return True
        self.count(reason)
        return False

    def _flooding_now(self, signature: Tuple[object, ...], waiting: int) -> bool:
        """Whether this error fills its share of the queue, or is paused after doing so."""
        if waiting >= self._flood_limit:
            if signature not in self._flooding:
                if len(self._flooding) >= 1024:
                    self._flooding.clear()
                self._flooding[signature] = time.monotonic() + FLOOD_PAUSE
            return True
        until = self._flooding.get(signature)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        self._flooding.pop(signature, None)
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

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until nothing is queued or in flight; False if time ran out.

        Events handed to the spool count as done: they are on disk. Without a
        timeout it also gives up (False) once the server has failed more
        consecutive tries than ``max_retries``: the events stay queued, but a
        script flushing before exit must not hang on a server that is down.
        """
        with self._lock:
            if self._thread is None and self._queue:
                self._start()
            if self._thread is None:  # threads cannot start any more (shutdown)
                return self._unfinished == 0
            limit = self._backoff.max_retries if timeout is None else float("inf")
            self._wake.wait_for(lambda: self._unfinished == 0 or self._failures > limit, timeout)
            return self._unfinished == 0

    def close(self, timeout: Optional[float] = None) -> int:
        """Flush for up to ``timeout``, then stop; returns events neither sent nor spooled."""
        self.flush(self._options.shutdown_timeout if timeout is None else timeout)
        with self._lock:
            self._stopping = True
            left = list(self._queue)
            self._queue.clear()
            in_flight = self._in_flight
            self._wake.notify_all()
        undelivered = len(left) + (1 if in_flight is not None else 0)
        if self._spool is not None:
            bodies = [self._prepare_safely(capture) for capture in left]
            if in_flight is not None:
                bodies.insert(0, in_flight)  # sent again later; the server deduplicates
            for body in bodies:
                if body is not None and self._spool.write(body):
                    self.counts["spooled"] += 1
                    undelivered -= 1
        self.counts["dropped_shutdown"] += undelivered
        if self._transport is not None and self._thread is None:
            self._transport.close()
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
        """Events queued or in flight."""
        return self._unfinished

    # -- the worker's side ------------------------------------------------

    def _start(self) -> None:
        thread = threading.Thread(target=self._run, name="ez-pixel-worker", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutting down: flush() reports what is left
            return
        self._thread = thread

    def _after_fork(self) -> None:
        self._reset()
        self.counts.clear()

    def _run(self) -> None:
        sdk_thread.active = True
        try:
            with _import_guard:
                self._load()

            while not self._stopping:
                if self._replay:
                    if self._spool is None:
                        self._end_replay()
                    else:
                        self._replay_one(self._spool)
                    continue
                with self._lock:
                    while not self._queue and not self._stopping and not self._replay:
                        self._idle = True
                        self._wake.wait()
                        self._idle = False
                    if self._stopping or not self._queue:
                        continue
                    capture = self._queue.popleft()
                    self._release_signature(capture)
                try:
                    self._deliver(capture)
                except BaseException:
                    self.counts["internal_errors"] += 1
                finally:
                    self._finish()
        except BaseException:  # never a traceback from the worker, even at shutdown
            pass
        finally:
            if self._transport is not None:
                try:
                    self._transport.close()
                except Exception:
                    pass

    def _load(self) -> None:
        """Import everything delivery needs, with the import guard held.

        Modules the first build and the first connection would import lazily
        are loaded here too (``sysconfig``'s data, the ``idna`` codec), so that
        no import is ever under way on this thread when the process forks.
        """
        from . import event  # loaded here, not on the app's thread
        from .transport import Transport

        event.warm_up(self._options)
        "ez-pixel.invalid".encode("idna")  # socket.getaddrinfo and urllib3 use this codec
        try:
            self._transport = Transport(self._options)  # TLS: loads the CA certificates
        except Exception as exc:  # e.g. a ca_certs file that cannot be read
            self.warn_once(4, f"cannot set up delivery to {self._options.ingest_url}: {exc}")

    def _begin_replay(self) -> None:
        """Send the spool's events before the queue's; flush() waits for them."""
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

    def _release_signature(self, capture: Capture) -> None:
        signature = _signature(capture)
        left = self._per_signature.get(signature, 1) - 1
        if left > 0:
            self._per_signature[signature] = left
        else:
            self._per_signature.pop(signature, None)

    def _finish(self) -> None:
        with self._lock:
            self._unfinished -= 1
            self._in_flight = None
            if not self._unfinished:  # what flush() waits for; waking it sooner costs a switch
                self._wake.notify_all()

    def _deliver(self, capture: Capture) -> None:
        body = self._prepare_safely(capture)
        if body is None:
            return
        self._in_flight = body
        outcome = self._send(body, capture.type_name, self._prepare_next)
        if outcome == UNREACHABLE and self._spool is not None and not self._spill(body):
            outcome = self._send(body, capture.type_name)  # now without a spool
        if outcome not in (SENT, STOPPED, UNREACHABLE):  # close() accounts for what it stopped
            self.counts[f"dropped_{outcome}"] += 1

    def _spill(self, body: bytes) -> bool:
        """The server is unreachable: move this event, then the queue, to disk.

        Stops at the first write the disk refuses, and from then on works
        without a spool: what was not written stays in memory.
        """
        assert self._spool is not None
        if not self._spool.write(body):
            self._disable_spool()
            return False
        self.counts["spooled"] += 1
        while True:
            with self._lock:
                if not self._queue:
                    break
                capture = self._queue.popleft()
                self._release_signature(capture)
            item = self._prepare_safely(capture)
            if item is not None and not self._spool.write(item):
                with self._lock:
                    self._queue.appendleft(capture)
                self._disable_spool()
                break
            if item is not None:
                self.counts["spooled"] += 1
            self._finish()
        self._begin_replay()
        self._pause(self._backoff.delay(self._failures))
        return True

    def _disable_spool(self) -> None:
        if self._spool is not None:
            self.warn_once(3, f"cannot write to spool_dir {self._spool.directory}; not spooling")
        self._spool = None

    def _replay_one(self, spool: "Spool") -> None:
        claimed = spool.claim()
        if claimed is None:
            self._end_replay()
            return
        path, body = claimed
        with self._lock:
            self._unfinished += 1
        try:
            outcome = self._send(body, "spooled event")
            if outcome == UNREACHABLE:
                spool.unclaim(path)
                self._pause(self._backoff.delay(self._failures))
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

    def _prepare_next(self) -> None:
        """Build the next queued event's body while the server answers this one."""
        with self._lock:
            upcoming = self._queue[0] if self._queue else None
        if upcoming is not None:
            self._prepare_safely(upcoming)

    def _prepare_safely(self, capture: Capture) -> Optional[bytes]:
        """The body, or None after counting why there is none; built once per capture."""
        if not capture.prepared:
            capture.body = self._build(capture)
            capture.prepared = True
        return capture.body

    def _build(self, capture: Capture) -> Optional[bytes]:
        try:
            body = self._prepare(capture)
        except Drop as drop:
            self.counts[f"dropped_{drop.reason}"] += 1
            return None
        except Exception:
            self.counts["internal_errors"] += 1
            body = None
        if body is None:
            self.counts["dropped_invalid"] += 1
        return body

    def _send(self, body: bytes, what: str, meanwhile: Optional[Callable[[], None]] = None) -> str:
        """POST ``body`` until it is stored, refused, or out of retries; the outcome.

        ``meanwhile`` runs while the server works on the request.
        """
        from .transport import TLS
        from .transport import UNREACHABLE as NOT_CONNECTED

        if self._transport is None:
            from .transport import Transport

            self._transport = Transport(self._options)
        attempts = 0
        while True:
            answer = self._transport.post(body, meanwhile)
            self._debug(what, answer, attempts)
            if is_success(answer.status):
                self._failures = 0
                self.counts["sent"] += 1
                return SENT
            if answer.status and is_permanent(answer.status, answer.body, answer.retry_after):
                self._failures = 0
                self._warn_rejected(answer)
                return f"rejected_{answer.status}"
            if answer.failure == TLS:
                self.warn_once(0, f"{answer.error} (event dropped; see the ca_certs option)")
                return UNTRUSTED
            with self._lock:
                self._failures += 1
                self._wake.notify_all()  # a flush() may give up on a server that is down
            if answer.failure == NOT_CONNECTED:
                self.warn_once(1, f"cannot reach {self._options.ingest_url}: {answer.error}")
                if self._spool is not None:
                    return UNREACHABLE
            else:  # the server saw this event and failed: that spends its budget
                attempts += 1
                if self._backoff.gives_up(attempts):
                    self.warn_once(2, f"an event was dropped after {attempts - 1} retries")
                    return EXHAUSTED
            self.counts["retried"] += 1
            if self._pause(self._backoff.delay(self._failures, answer.retry_after)):
                return STOPPED

    def _pause(self, seconds: float) -> bool:
        """Sleep, waking early on close; True when closing."""
        if self._options.debug:
            say(f"backing off {seconds:.1f}s")
        with self._lock:
            return self._wake.wait_for(lambda: self._stopping, seconds)

    def _warn_rejected(self, answer: "Answer") -> None:
        key = mask_key(self._options.project_key)
        hints = {
            400: "the server rejected an event as malformed",
            401: f"the server does not know project key {key}",
            403: f"the server refused project key {key}",
            404: f"nothing accepts events at {self._options.ingest_url} (404)",
            413: "an event was too large for the server",
            429: "the project has reached the server's cap of error groups; new ones are refused",
        }
        hint = hints.get(answer.status, f"the server answered {answer.status}")
        self.warn_once(answer.status, f"{hint}: {answer.body.strip()[:200]} (event dropped)")

    def warn_once(self, status: int, message: str) -> None:
        """Say ``message`` once per cause (``status`` and its first words) for this worker."""
        cause = (status, message[:40])
        if cause not in self._warned:
            self._warned.add(cause)
            say(message)

    def _debug(self, what: str, answer: "Answer", attempts: int) -> None:
        if self._options.debug:
            outcome = answer.status or f"{answer.failure}: {answer.error}"
            reply = answer.body.strip()[:120]
            say(f"sent {what} (attempt {attempts + 1}) -> {outcome} {reply}")


def _before_fork() -> None:
    _guard_taken.held = _import_guard.acquire(timeout=5)


def _after_fork_in_parent() -> None:
    if getattr(_guard_taken, "held", False):
        _guard_taken.held = False
        _import_guard.release()


def _close_in_multiprocessing_child(worker: Worker) -> None:
    # multiprocessing children leave through os._exit(), skipping atexit; its
    # own exit function runs the finalizers registered here instead.
    util = sys.modules["multiprocessing.util"]
    util.Finalize(worker, worker.close_at_exit, exitpriority=10)  # type: ignore[attr-defined]


def _after_fork_in_child() -> None:
    global _import_guard
    _import_guard = threading.Lock()
    _guard_taken.held = False
    util = sys.modules.get("multiprocessing.util")
    for worker in list(_workers):
        worker._after_fork()
        if util is not None:
            util.register_after_fork(worker, _close_in_multiprocessing_child)  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def stats_of(worker: Worker) -> Dict[str, object]:
    """Counters as a plain dict: queued, sent, retried, dropped by reason, spooled, replayed."""
    counts = dict(worker.counts)
    dropped = {k[len("dropped_") :]: v for k, v in counts.items() if k.startswith("dropped_")}
    return {
        "queued": counts.get("queued", 0),
        "sent": counts.get("sent", 0),
        "retried": counts.get("retried", 0),
        "dropped": dropped,
        "spooled": counts.get("spooled", 0),
        "replayed": counts.get("replayed", 0),
        "internal_errors": counts.get("internal_errors", 0),
        "pending": worker.pending,
    }
