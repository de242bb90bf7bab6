"""A delivery job: a body to build once (on the worker) and send, with a flood key.

The worker runs jobs and knows nothing about events: whoever queues a job
says what it is called and which flood key it counts under, and the
worker's owner gives it the function that builds a job's body
(:attr:`~.worker.Worker.build`). Building raises :class:`Drop` when the
body must not be sent. The event stage's capture is itself a job, so that
queueing an error allocates nothing more than the capture.
"""

from typing import Hashable, Optional


class Drop(Exception):
    """Raised by a job's build when it must not be sent; ``reason`` is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Job:
    """One body to deliver, built at most once, on the worker thread.

    A base: a subclass (the event stage's capture) says what it is and which
    flood key it counts under, and is made on the app's thread without a call
    to a base ``__init__``; the worker sets the rest (a slot not set yet is
    unset, not None: nothing is stored for them on the app's thread).
    """

    __slots__ = ("body", "queued_at")

    #: The request body once built (None: dropped); unset until then.
    body: Optional[bytes]
    #: ``time.monotonic()`` when it was queued: how long delivery may wait for it.
    queued_at: float

    @property
    def key(self) -> Hashable:
        """What the flood gate counts this job as; asked only while it counts."""
        raise NotImplementedError

    @property
    def what(self) -> object:
        """Names the job in debug output: a name, or a class (its ``__name__``)."""
        return type(self)

    @property
    def name(self) -> str:
        """:attr:`what` as text."""
        what = self.what
        return what if isinstance(what, str) else str(getattr(what, "__name__", what))
