"""A delivery job: a body to build once (on the worker) and send, with a flood key.

The worker runs jobs and knows nothing about events: whoever queues a job
says what it is called, which flood key it counts under, and how to build its
body. Building raises :class:`Drop` when the body must not be sent.
"""

from typing import Any, Callable, Hashable, Optional


class Drop(Exception):
    """Raised by a job's build when it must not be sent; ``reason`` is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Job:
    """One body to deliver; ``build(source)`` runs at most once, on the worker thread.

    The build function and its argument are kept apart so that queueing a
    job allocates nothing else (no closure, no ``functools.partial``).
    """

    __slots__ = ("body", "build", "built", "key", "queued_at", "source", "what")

    def __init__(
        self,
        key: Hashable,
        what: object,
        build: Callable[[Any], Optional[bytes]],
        source: Any = None,
    ) -> None:
        #: What the flood gate counts this job as.
        self.key = key
        #: Names the job in debug output: a name, or a class (its ``__name__``).
        self.what = what
        #: Makes the body from :attr:`source` (``build(source)``).
        self.build = build
        self.source = source
        #: The request body once built (None: dropped).
        self.body: Optional[bytes] = None
        self.built = False
        #: ``time.monotonic()`` when it was queued: how long delivery may wait for it.
        self.queued_at = 0.0

    @property
    def name(self) -> str:
        """:attr:`what` as text."""
        what = self.what
        return what if isinstance(what, str) else str(getattr(what, "__name__", what))
