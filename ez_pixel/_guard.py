""" "Swallow, count, never raise": the one way ez-pixel keeps its own failures to itself.

An error reporter must never become the error. Every hook, handler and public
call runs its work inside :data:`swallowed` (or a :class:`Swallow` that counts
into a client's ``internal_errors``) instead of a hand-written
``try/except Exception: pass``, so the rule is written once and every
swallowed failure is counted where a client is known.

The re-entry flag :data:`sdk_thread` lives here too: it marks threads doing
ez-pixel's own work, whose log records must never come back into ez-pixel.
"""

import threading
from types import TracebackType
from typing import Callable, Optional, Type

#: Marks threads whose log records must never come back into ez-pixel.
sdk_thread = threading.local()

#: The counter every swallowed failure is added to.
INTERNAL_ERRORS = "internal_errors"


class Swallow:
    """A context manager that swallows ``Exception`` and counts it with ``count``.

    ``with Swallow(worker.count): ...`` runs the block; an exception it raises
    is counted as ``internal_errors`` and never propagates. ``BaseException``
    (``KeyboardInterrupt``, ``SystemExit``) still does. A failing counter is
    swallowed too.
    """

    __slots__ = ("_count",)

    def __init__(self, count: Optional[Callable[[str], None]] = None) -> None:
        self._count = count

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        if exc_type is None or not issubclass(exc_type, Exception):
            return False
        if self._count is not None:
            try:
                self._count(INTERNAL_ERRORS)
            except Exception:  # the counter itself failed: nothing left to tell
                return True
        return True


#: Swallows without counting: for places that know no client (process hooks
#: before a client exists, cleanup after it closed).
swallowed = Swallow()
