"""What the caller's thread records about an error: the least that cannot wait.

Everything here runs on the application's thread at the moment of the error,
so it only copies what could change or vanish (the exception's text, the
frames' code objects and instruction offsets) and leaves line numbers, names,
source lines, paths, hashing and JSON to the worker (see :mod:`ez_pixel._event`).
Code objects are shared and small; holding them keeps no locals or frames alive.
This is the app's time: every step counts (see bench/README.md).
"""

import builtins
import sys
from types import FrameType, TracebackType
from typing import Any, Callable, List, Optional, Tuple

from .._event.snapshot import (
    KEEP_INNER,
    KEEP_OUTER,
    Capture,
    CapturedFrame,
    Cause,
    FloodKey,
    flood_key,
    key_at,
    type_name,
)
from .._text import cut, text_of
from ..contract import MAX_MESSAGE_CHARS

#: Exception groups' base class (Python 3.11+); before, a class tuple no exception is in.
_GROUP: Any = getattr(builtins, "BaseExceptionGroup", ())

#: The type of events made from a log record or message without an exception.
MESSAGE_TYPE = "LogMessage"
#: The type of a manual report without an exception.
MANUAL_TYPE = "ManualReport"

#: Chained exceptions and exception-group members described per event, at most.
MAX_CAUSES = 3
#: Innermost frames kept of each chained exception: enough to find its innermost app frame.
MAX_CAUSE_FRAMES = 20


def causes_of(exc: BaseException) -> Optional[List[Cause]]:
    """The ``__cause__``/``__context__`` chain of ``exc``, outermost first, cycle-safe and bounded.

    Implicit context (an exception raised while handling another) counts,
    unless the raise suppressed it (``raise ... from None``).
    """
    try:
        if exc.__cause__ is None and (exc.__suppress_context__ or exc.__context__ is None):
            return None  # the common case, answered before anything is allocated
    except Exception:
        return None
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
        tb = getattr(nxt, "__traceback__", None)
        frames, _ = frames_from_traceback(tb, limit=MAX_CAUSE_FRAMES)
        causes.append((type(nxt), text_of(nxt, 300), frames))
        current = nxt
    return causes or None


def group_summary(exc: BaseException) -> str:
    """``"; "``-joined members of an exception group (Python 3.11+), else ''."""
    members = exc.exceptions  # type: ignore[attr-defined]
    if not isinstance(members, tuple):
        return ""
    shown = [f"{type_name(type(m))}: {text_of(m, 200)}" for m in members[:MAX_CAUSES]]
    more = len(members) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def log_message_of(message: Any) -> Optional[str]:
    """A log message to keep until the worker joins it with the exception's text.

    Text is only bounded here (the worker cuts it to the server's limit);
    anything else (``report_pixel(obj, error=e)``) is printed now.
    """
    if message is None:
        return None
    if not isinstance(message, str):
        return text_of(message, MAX_MESSAGE_CHARS)
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS + 1]


def _trim(frames: List[CapturedFrame]) -> Tuple[List[CapturedFrame], int]:
    excess = len(frames) - KEEP_INNER - KEEP_OUTER
    if excess <= 0:
        return frames, 0
    return frames[:KEEP_INNER] + frames[-KEEP_OUTER:], excess


def frames_from_traceback(
    tb: Optional[TracebackType], limit: int = 0
) -> Tuple[List[CapturedFrame], int]:
    """The traceback's frames, innermost first, and how many were cut.

    With ``limit``, only that many innermost frames are kept.
    """
    frames: List[CapturedFrame] = []
    keep = frames.append
    if type(tb) is TracebackType:
        while tb is not None:
            frame = tb.tb_frame
            keep((frame.f_code, tb.tb_lasti, frame.f_globals))
            tb = tb.tb_next
    else:
        _copy_imitation(tb, keep)
    frames.reverse()
    if limit:
        return frames[:limit], 0
    if len(frames) <= KEEP_INNER + KEEP_OUTER:
        return frames, 0
    return _trim(frames)


def _copy_imitation(tb: Any, keep: Callable[[Any], None]) -> None:
    """Frames of a traceback a library made up (billiard's, Celery's): its line as given.

    Their code objects are imitations without a line table, so each frame
    is kept with the line the imitation says, in the event stage's form
    (:data:`~ez_pixel._event.snapshot.RawFrame`).
    """
    steps = 0
    while tb is not None and steps < 10_000:
        frame = tb.tb_frame
        keep((frame.f_code, tb.tb_lineno or 0, getattr(tb, "tb_lasti", -1), frame.f_globals))
        tb = tb.tb_next
        steps += 1


def frames_from_frame(frame: Optional[FrameType]) -> Tuple[List[CapturedFrame], int]:
    """The stack from ``frame`` outwards, innermost first, and how many were cut."""
    frames: List[CapturedFrame] = []
    while frame is not None:
        frames.append((frame.f_code, frame.f_lasti, frame.f_globals))
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


def _innermost_key(kind: type, tb: TracebackType) -> FloodKey:
    """The flood key of an error with a real traceback, found without copying its frames."""
    below = tb.tb_next
    while below is not None:
        tb = below
        below = tb.tb_next
    return key_at(kind, tb.tb_frame.f_code, tb.tb_lasti)


def exception_capture(
    exc: BaseException,
    level: str,
    *,
    tb: Optional[TracebackType] = None,
    call_site: Optional[FrameType] = None,
    admit: Optional[Callable[[FloodKey], bool]] = None,
) -> Optional[Capture]:
    """What the caller's thread records of ``exc``; None when ``admit`` refuses it.

    ``tb`` defaults to the exception's own traceback; an exception that was
    never raised has none, and then ``call_site`` gives the stack. ``admit``
    (the flood gate, passed while it may refuse) is asked before anything
    else is gathered: in a hot loop only the innermost frame is looked up.
    The caller adds the log message and extra fields to the capture it gets.
    """
    if tb is None:
        tb = getattr(exc, "__traceback__", None)
    kind = type(exc)
    key = None
    if admit is not None and type(tb) is TracebackType:
        key = _innermost_key(kind, tb)
        if not admit(key):
            return None
    frames, omitted = frames_from_traceback(tb) if tb is not None else frames_from_frame(call_site)
    if admit is not None and key is None:
        key = flood_key(kind, frames)
        if not admit(key):
            return None
    try:
        printed: Optional[str] = str(exc)
    except Exception:
        printed = None
    if printed is None:  # text_of names the failure
        text = text_of(exc, MAX_MESSAGE_CHARS)
    elif len(printed) <= MAX_MESSAGE_CHARS and printed.isascii():
        text = printed
    else:
        text = cut(printed, MAX_MESSAGE_CHARS)
    if isinstance(exc, _GROUP):
        members = group_summary(exc)
        if members:
            text = f"{text} [{members}]"
    return Capture(level, kind, text, frames, omitted, key, causes_of(exc))


def message_capture(
    message: Any,
    level: str,
    *,
    call_site: Optional[FrameType],
    group: str,
    manual: bool = False,
) -> Capture:
    """A message event's capture: its stack is ``call_site`` outwards."""
    frames, omitted = frames_from_frame(call_site)
    kind = MANUAL_TYPE if manual else MESSAGE_TYPE
    return Capture(
        level,
        kind,
        text_of(message, MAX_MESSAGE_CHARS),
        frames,
        omitted,
        group=group,
        manual=manual,
    )
