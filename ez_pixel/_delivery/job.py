"""A delivery job: a body to build once (on the worker) and send, with a flood key.

The worker runs jobs and knows nothing about events: whoever queues a job
says what it is called, which flood key it counts under, and how to build its
body. Building raises :class:`Drop` when the body must not be sent.
"""

from typing import Callable, Hashable, Optional


class Drop(Exception):
    """Raised by a job's build when it must not be sent; ``reason`` is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Job:
    """One body to deliver; ``build`` runs at most once, on the worker thread."""

    __slots__ = ("body", "build", "built", "key", "what")

    def __init__(self, key: Hashable, what: str, build: Callable[[], Optional[bytes]]) -> None:
        #: What the flood gate counts this job as.
        self.key = key
        #: Names the job in debug output.
        self.what = what
        self.build = build
        #: The request body once built (None: dropped).
        self.body: Optional[bytes] = None
        self.built = False
