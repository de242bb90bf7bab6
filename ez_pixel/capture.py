"""What the caller's thread records about an error: the least that cannot wait.

Everything here runs on the application's thread at the moment of the error,
so it only copies what could change or vanish (the message text, the frames'
code objects and line numbers) and leaves source lines, paths, hashing and
JSON to the worker (see :mod:`ez_pixel.event`). Code objects are shared and
small; holding them keeps no locals or frames alive.
"""

import builtins
import sys
import time
from types import CodeType, FrameType, TracebackType
from typing import Any, List, Optional, Tuple

from .contract import MAX_MESSAGE_CHARS, MAX_TYPE_CHARS

#: One frame as captured: code object, line number, last instruction, and the
#: frame's globals (a module's namespace, alive anyway; read for ``__name__``
#: on the worker, which is cheaper than reading it here for every frame).
RawFrame = Tuple[CodeType, int, int, Any]

#: Frames kept from each end of a deeper stack (a RecursionError has ~1,000).
KEEP_INNER = 80
KEEP_OUTER = 20


_GROUP = getattr(builtins, "BaseExceptionGroup", None)

#: A chained exception: its type, its text and where it was raised (innermost frame).
Cause = Tuple[str, str, Optional[RawFrame]]

#: Chained exceptions and exception-group members described per event, at most.
MAX_CAUSES = 3


class Capture:
    """One error as the caller saw it, waiting in the queue to become an event."""

    __slots__ = (
        "body",
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
        "prepared",
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
        causes: Optional[List["Cause"]] = None,
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
        #: What flood control counts this capture as (see ``worker.signature``), once known.
        self.flood_key: Optional[Tuple[object, ...]] = None
        #: The request body, once the worker has built it (None: dropped).
        self.body: Optional[bytes] = None
        self.prepared = False
        self.timestamp = time.time()


def safe_str(value: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``str(value)`` cut to ``limit`` characters, never raising."""
    try:
        text = value if isinstance(value, str) else str(value)
        if not isinstance(text, str):  # a __str__ returning a non-str is caught by str()
            raise TypeError
    except Exception:
        try:
            text = f"<unprintable {type(value).__name__} object>"
        except Exception:
            text = "<unprintable object>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(exc: BaseException) -> str:
    """The exception's class name, as the event's ``type``."""
    try:
        name = type(exc).__qualname__
        return name[:MAX_TYPE_CHARS] if isinstance(name, str) and name else "Exception"
    except Exception:
        return "Exception"


def causes_of(exc: BaseException) -> Optional[List[Cause]]:
    """The ``__cause__``/``__context__`` chain of ``exc``, cycle-safe and bounded."""
    causes: List[Cause] = []
    seen = {id(exc)}
    current: Optional[BaseException] = exc
    while current is not None and len(causes) < MAX_CAUSES:
        try:
            nxt = current.__cause__ or (
                None if current.__suppress_context__ else current.__context__
            )
        except Exception:
            break
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        frames, _ = frames_from_traceback(getattr(nxt, "__traceback__", None), limit=1)
        causes.append((type_name(nxt), safe_str(nxt, 300), frames[0] if frames else None))
        current = nxt
    return causes or None


def group_summary(exc: BaseException) -> str:
    """``"; "``-joined members of an exception group (Python 3.11+), else ''."""
    if _GROUP is None or not isinstance(exc, _GROUP):
        return ""
    members = exc.exceptions
    if not isinstance(members, tuple):
        return ""
    shown = [f"{type_name(m)}: {safe_str(m, 200)}" for m in members[:MAX_CAUSES]]
    more = len(members) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def combine_message(log_message: Optional[str], exc_text: str) -> str:
    """The log message and the exception's text, once each."""
    if log_message is not None and not isinstance(log_message, str):  # report_pixel(obj, error=e)
        log_message = safe_str(log_message)
    if log_message:  # "Exception in ASGI application\n" (uvicorn) must not end in a newline
        log_message = log_message.rstrip()
    if not log_message or log_message == exc_text:
        text = exc_text
    elif not exc_text or exc_text in log_message:
        text = log_message
    else:
        text = f"{log_message}: {exc_text}"
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def module_name(raw: RawFrame) -> str:
    """The ``__name__`` of the module a captured frame ran in, or ''."""
    namespace = raw[3]
    name = namespace.get("__name__") if isinstance(namespace, dict) else namespace
    return name if isinstance(name, str) else ""


def _trim(frames: List[RawFrame]) -> Tuple[List[RawFrame], int]:
    excess = len(frames) - KEEP_INNER - KEEP_OUTER
    if excess <= 0:
        return frames, 0
    return frames[:KEEP_INNER] + frames[-KEEP_OUTER:], excess


def frames_from_traceback(
    tb: Optional[TracebackType], limit: int = 0
) -> Tuple[List[RawFrame], int]:
    """The traceback's frames, innermost first, and how many were cut.

    With ``limit``, only that many innermost frames are kept.
    """
    frames: List[RawFrame] = []
    while tb is not None:
        frame = tb.tb_frame
        frames.append((frame.f_code, tb.tb_lineno or 0, tb.tb_lasti, frame.f_globals))
        tb = tb.tb_next
    frames.reverse()
    if limit:
        return frames[:limit], 0
    return _trim(frames)


def frames_from_frame(frame: Optional[FrameType]) -> Tuple[List[RawFrame], int]:
    """The stack from ``frame`` outwards, innermost first, and how many were cut."""
    frames: List[RawFrame] = []
    while frame is not None:
        frames.append((frame.f_code, frame.f_lineno or 0, frame.f_lasti, frame.f_globals))
        frame = frame.f_back
    return _trim(frames)


def find_caller(filename: str, lineno: int, depth: int = 2) -> Optional[FrameType]:
    """The frame executing ``filename:lineno``, searched outwards from our caller."""
    try:
        frame: Optional[FrameType] = sys._getframe(depth)
    except ValueError:
        return None
    steps = 0
    while frame is not None and steps < 64:
        if frame.f_lineno == lineno and frame.f_code.co_filename == filename:
            return frame
        frame = frame.f_back
        steps += 1
    return None
