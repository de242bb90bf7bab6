"""Fork safety: a child starts its workers afresh and never inherits a held import lock.

In a forked child every worker starts again: the parent's queue is discarded
so nothing is sent twice, and the thread and connection pool are new. A
multiprocessing child (which leaves through ``os._exit``, skipping atexit)
closes its workers through multiprocessing's own exit finalizers, and, forked
or spawned, delivers each event before the call that reported it returns:
``with Pool(...)`` terminates its workers with SIGTERM as soon as the results
are in, and no exit hook runs then. Signal handlers are left alone.

The worker thread imports what delivery needs with :data:`import_guard` held;
a fork waits for it, because a child forked mid-import would inherit a module
lock owned by a thread it does not have, and fail to import that module ever
after.
"""

import os
import sys
import threading
import weakref
from typing import Any

#: Every live worker (anything with ``after_fork()`` and ``close_at_exit()``).
workers: "weakref.WeakSet[Any]" = weakref.WeakSet()

_state = threading.local()
#: Held while a worker imports what delivery needs.
import_guard = threading.Lock()


def _before_fork() -> None:
    _state.held = import_guard.acquire(timeout=5)


def _after_fork_in_parent() -> None:
    if getattr(_state, "held", False):
        _state.held = False
        import_guard.release()


def in_multiprocessing_child() -> bool:
    """Whether this process is a multiprocessing child (a Pool worker, a Process).

    A spawned child imports the main module (where ``init_pixel`` usually
    runs) before multiprocessing records its parent, but after it names the
    process.
    """
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return False
    try:
        return mp.parent_process() is not None or mp.current_process().name != "MainProcess"
    except Exception:  # a multiprocessing replaced or half torn down
        return False


def _close_in_multiprocessing_child(worker: Any) -> None:
    worker.deliver_each = True
    util = sys.modules["multiprocessing.util"]
    util.Finalize(worker, worker.close_at_exit, exitpriority=10)  # type: ignore[attr-defined]


def _after_fork_in_child() -> None:
    global import_guard
    import_guard = threading.Lock()
    _state.held = False
    util = sys.modules.get("multiprocessing.util")
    for worker in list(workers):
        worker.after_fork()
        if util is not None:
            util.register_after_fork(worker, _close_in_multiprocessing_child)  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
