"""The bounded queue and the one background thread that delivers it.

The caller's only cost is an append under a lock; a full queue drops the new
event and counts it. The thread starts on the first event, sleeps on a
condition when idle (no polling), and is replaced in a forked child, whose
copy of the parent's queue is discarded so nothing is sent twice.
"""

import os
import sys
import threading
import weakref
from collections import Counter, deque
from typing import TYPE_CHECKING, Callable, Deque, Dict, Optional, Set, Tuple

from .capture import Capture
from .options import Options, mask_key
from .retry import Backoff, is_permanent, is_success

if TYPE_CHECKING:
    from .transport import Answer, Transport

#: Turns a capture into the request body, or None when it must be dropped.
Prepare = Callable[[Capture], Optional[bytes]]

#: Marks threads whose log records must never come back into ez-pixel.
sdk_thread = threading.local()

_workers: "weakref.WeakSet[Worker]" = weakref.WeakSet()


def say(message: str) -> None:
    """One line on stderr from the SDK itself; never raises."""
    try:
        sys.stderr.write(f"ez-pixel: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass


class Worker:
    """Delivers queued captures, in order, from one daemon thread."""

    def __init__(self, options: Options, prepare: Prepare) -> None:
        self._options = options
        self._prepare = prepare
        self._backoff = Backoff(max_retries=options.max_retries)
        self.counts: Counter[str] = Counter()
        self._warned: Set[Tuple[int, str]] = set()
        self._reset()
        _workers.add(self)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: Deque[Capture] = deque()
        self._unfinished = 0  # queued plus in flight
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._transport: Optional[Transport] = None

    # -- the caller's side ------------------------------------------------

    def submit(self, capture: Capture) -> bool:
        """Queue ``capture`` without blocking; False when it was dropped."""
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            if self._stopping:
                self.counts["dropped_closed"] += 1
                return False
            if len(self._queue) >= self._options.queue_size:
                self.counts["dropped_queue_full"] += 1
                return False
            self._queue.append(capture)
            self._unfinished += 1
            self.counts["queued"] += 1
            if self._thread is None:
                self._start()
            self._wake.notify_all()
        return True

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until nothing is queued or in flight; False if time ran out."""
        with self._lock:
            if self._thread is None and self._queue:
                self._start()
            if self._thread is None:  # threads cannot start any more (shutdown)
                return self._unfinished == 0
            return self._wake.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self, timeout: Optional[float] = None) -> int:
        """Flush for up to ``timeout``, then stop; returns events left undelivered."""
        self.flush(self._options.shutdown_timeout if timeout is None else timeout)
        with self._lock:
            self._stopping = True
            left = self._unfinished
            self.counts["dropped_shutdown"] += len(self._queue)
            self._queue.clear()
            self._wake.notify_all()
        if self._transport is not None and self._thread is None:
            self._transport.close()
        return left

    def count(self, name: str) -> None:
        """Add one to counter ``name`` from any thread."""
        with self._lock:
            self.counts[name] += 1

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
            while True:
                with self._lock:
                    while not self._queue and not self._stopping:
                        self._wake.wait()
                    if self._stopping:
                        break
                    capture = self._queue.popleft()
                try:
                    self._deliver(capture)
                except BaseException:
                    self.counts["internal_errors"] += 1
                finally:
                    with self._lock:
                        self._unfinished -= 1
                        self._wake.notify_all()
        except BaseException:  # never a traceback from the worker, even at shutdown
            pass
        finally:
            if self._transport is not None:
                try:
                    self._transport.close()
                except Exception:
                    pass

    def _deliver(self, capture: Capture) -> None:
        body = self._prepare(capture)
        if body is None:
            self.counts["dropped_invalid"] += 1
            return
        transport = self._transport
        if transport is None:
            from .transport import Transport

            transport = self._transport = Transport(self._options)
        retry = 0
        while True:
            answer = transport.post(body)
            self._debug(capture, answer, retry)
            if is_success(answer.status):
                self.counts["sent"] += 1
                return
            if answer.status and is_permanent(answer.status):
                self.counts[f"dropped_rejected_{answer.status}"] += 1
                self._warn_rejected(answer)
                return
            retry += 1
            if self._backoff.gives_up(retry):
                self.counts["dropped_retries_exhausted"] += 1
                self._warn_once(
                    0, f"an event was dropped after {retry - 1} retries ({_why(answer)})"
                )
                return
            self.counts["retried"] += 1
            if self._pause(self._backoff.delay(retry, answer.retry_after)):
                self.counts["dropped_shutdown"] += 1
                return

    def _pause(self, seconds: float) -> bool:
        """Sleep, waking early on close; True when closing."""
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
        }
        hint = hints.get(answer.status, f"the server answered {answer.status}")
        self._warn_once(answer.status, f"{hint}: {answer.body.strip()[:200]} (event dropped)")

    def _warn_once(self, status: int, message: str) -> None:
        cause = (status, message[:60])
        if cause not in self._warned:
            self._warned.add(cause)
            say(message)

    def _debug(self, capture: Capture, answer: "Answer", retry: int) -> None:
        if self._options.debug:
            outcome = answer.status or answer.error
            reply = answer.body.strip()[:120]
            say(f"sent {capture.type_name} (try {retry + 1}) -> {outcome} {reply}")


def _why(answer: "Answer") -> str:
    return answer.error or f"HTTP {answer.status}"


def _reinit_in_child() -> None:
    for worker in list(_workers):
        worker._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_in_child)


def stats_of(worker: Worker) -> Dict[str, object]:
    """Counters as a plain dict: queued, sent, retried, dropped by reason, pending."""
    counts = dict(worker.counts)
    dropped = {k[len("dropped_") :]: v for k, v in counts.items() if k.startswith("dropped_")}
    return {
        "queued": counts.get("queued", 0),
        "sent": counts.get("sent", 0),
        "retried": counts.get("retried", 0),
        "dropped": dropped,
        "internal_errors": counts.get("internal_errors", 0),
        "pending": worker.pending,
    }
