"""What the caller's thread hands the event stage: one error, as the caller saw it.

The capture stage (:mod:`ez_pixel._capture`) fills a :class:`Capture` on the
application's thread; the event stage turns it into a wire event on the
worker. The value lives here, with its reader, so that imports run one way
(capture → event → delivery). Code objects are shared and small; holding them
keeps no locals or frames alive.
"""

import time
from types import CodeType
from typing import Any, List, Optional, Tuple

#: One frame as captured: code object, line number, last instruction, and the
#: frame's globals (a module's namespace, alive anyway; read for ``__name__``
#: on the worker, which is cheaper than reading it here for every frame).
RawFrame = Tuple[CodeType, int, int, Any]

#: A chained exception: its type, its text and its innermost frames (innermost first).
Cause = Tuple[str, str, List[RawFrame]]

#: Frames kept from each end of a deeper stack (a RecursionError has ~1,000).
KEEP_INNER = 80
KEEP_OUTER = 20

#: What flood control counts a capture as: cheap, no hashing of code.
FloodKey = Tuple[object, ...]


def flood_key(type_name: str, frames: List[RawFrame], group: Optional[str] = None) -> FloodKey:
    """What makes two captures "the same error" for the flood gate: type and innermost frame."""
    if frames:
        return (type_name, id(frames[0][0]), frames[0][1], group)
    return (type_name, group)


class Capture:
    """One error as the caller saw it, waiting in the queue to become an event."""

    __slots__ = (
        "causes",
        "event_id",
        "extra",
        "flood_key",
        "frames",
        "group",
        "level",
        "manual",
        "message",
        "omitted",
        "timestamp",
        "type_name",
    )

    def __init__(
        self,
        level: str,
        type_name: str,
        message: str,
        frames: List[RawFrame],
        *,
        omitted: int = 0,
        manual: bool = False,
        group: Optional[str] = None,
        event_id: Optional[str] = None,
        extra: Optional[dict] = None,  # type: ignore[type-arg]
        causes: Optional[List[Cause]] = None,
        key: Optional[FloodKey] = None,
    ) -> None:
        self.level = level
        self.type_name = type_name
        self.message = message
        #: Innermost first.
        self.frames = frames
        #: Frames dropped from the middle of a very deep stack.
        self.omitted = omitted
        self.manual = manual
        #: For message events: what groups them besides the call site.
        self.group = group
        self.event_id = event_id
        self.extra = extra
        #: The exceptions this one was raised from or during, outermost first.
        self.causes = causes
        #: What the flood gate counts this capture as.
        self.flood_key = key if key is not None else flood_key(type_name, frames, group)
        self.timestamp = time.time()


def module_name(raw: RawFrame) -> str:
    """The ``__name__`` of the module a captured frame ran in, or ''."""
    namespace = raw[3]
    name = namespace.get("__name__") if isinstance(namespace, dict) else namespace
    return name if isinstance(name, str) else ""
