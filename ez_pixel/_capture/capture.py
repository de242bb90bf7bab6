"""What the caller's thread records about an error: the least that cannot wait.

Everything here runs on the application's thread at the moment of the error,
so it only copies what could change or vanish (the message text, the frames'
code objects and line numbers) and leaves source lines, paths, hashing and
JSON to the worker (see :mod:`ez_pixel._event`). Code objects are shared and
small; holding them keeps no locals or frames alive.
"""

import builtins
import sys
from types import FrameType, TracebackType
from typing import Any, Callable, Dict, List, Optional, Tuple

from .._event.snapshot import (
    KEEP_INNER,
    KEEP_OUTER,
    Capture,
    Cause,
    FloodKey,
    RawFrame,
    flood_key,
)
from .._text import cut, text_of
from ..contract import MAX_MESSAGE_CHARS, MAX_TYPE_CHARS

_GROUP = getattr(builtins, "BaseExceptionGroup", None)

#: The type of events made from a log record or message without an exception.
MESSAGE_TYPE = "LogMessage"
#: The type of a manual report without an exception.
MANUAL_TYPE = "ManualReport"

#: Chained exceptions and exception-group members described per event, at most.
MAX_CAUSES = 3
#: Innermost frames kept of each chained exception: enough to find its innermost app frame.
MAX_CAUSE_FRAMES = 20

#: Modules whose classes Python's traceback prints bare (``KeyError``, not ``builtins.KeyError``).
_BARE_MODULES = ("builtins", "__main__")


def type_name(exc: BaseException) -> str:
    """The exception's class as Python's traceback prints it, as the event's ``type``.

    ``module.QualName`` (``sqlite3.OperationalError``,
    ``django.db.utils.OperationalError``); builtins and ``__main__`` classes bare.
    """
    try:
        cls = type(exc)
        name = cls.__qualname__
        if not isinstance(name, str) or not name:
            return "Exception"
        module = cls.__module__
        if isinstance(module, str) and module and module not in _BARE_MODULES:
            name = f"{module}.{name}"
        return cut(name, MAX_TYPE_CHARS)
    except Exception:
        return "Exception"


def causes_of(exc: BaseException) -> Optional[List[Cause]]:
    """The ``__cause__``/``__context__`` chain of ``exc``, outermost first, cycle-safe and bounded.

    Implicit context (an exception raised while handling another) counts,
    unless the raise suppressed it (``raise ... from None``).
    """
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
        causes.append((type_name(nxt), text_of(nxt, 300), frames))
        current = nxt
    return causes or None


def group_summary(exc: BaseException) -> str:
    """``"; "``-joined members of an exception group (Python 3.11+), else ''."""
    if _GROUP is None or not isinstance(exc, _GROUP):
        return ""
    members = exc.exceptions
    if not isinstance(members, tuple):
        return ""
    shown = [f"{type_name(m)}: {text_of(m, 200)}" for m in members[:MAX_CAUSES]]
    more = len(members) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def combine_message(log_message: Optional[str], exc_text: str) -> str:
    """The log message and the exception's text, once each."""
    if log_message is not None and not isinstance(log_message, str):  # report_pixel(obj, error=e)
        log_message = text_of(log_message, MAX_MESSAGE_CHARS)
    if log_message:  # "Exception in ASGI application\n" (uvicorn) must not end in a newline
        log_message = log_message.rstrip()
    if not log_message or log_message == exc_text:
        text = exc_text
    elif not exc_text or exc_text in log_message:
        text = log_message
    else:
        text = f"{log_message}: {exc_text}"
    return cut(text, MAX_MESSAGE_CHARS)


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


def innermost_key(exc: BaseException, tb: Optional[TracebackType]) -> Optional[FloodKey]:
    """The flood key of ``exc`` from its type and innermost frame alone; None without a traceback.

    Cheap enough to ask the flood gate before the rest of a capture is gathered.
    """
    if tb is None:
        tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    innermost: RawFrame = (tb.tb_frame.f_code, tb.tb_lineno or 0, 0, None)
    return flood_key(type_name(exc), [innermost])


def exception_capture(
    exc: BaseException,
    level: str,
    *,
    tb: Optional[TracebackType] = None,
    message: Optional[str] = None,
    manual: bool = False,
    call_site: Optional[FrameType] = None,
    extra: Optional[Dict[str, Any]] = None,
    admit: Optional[Callable[[FloodKey], bool]] = None,
) -> Optional[Capture]:
    """What the caller's thread records of ``exc``; None when ``admit`` refuses it.

    ``tb`` defaults to the exception's own traceback; an exception that was
    never raised has none, and then ``call_site`` gives the stack. ``admit``
    (the flood gate) is asked once the frames are known, before the message
    and the causes are gathered: cheap in a hot loop.
    """
    if tb is None:
        tb = getattr(exc, "__traceback__", None)
    frames, omitted = frames_from_traceback(tb) if tb is not None else frames_from_frame(call_site)
    name = type_name(exc)
    key = flood_key(name, frames)
    if admit is not None and not admit(key):
        return None
    text = text_of(exc, MAX_MESSAGE_CHARS)
    members = group_summary(exc)
    if members:
        text = f"{text} [{members}]"
    return Capture(
        level,
        name,
        combine_message(message, text),
        frames,
        omitted=omitted,
        manual=manual,
        extra=extra,
        causes=causes_of(exc),
        key=key,
    )


def message_capture(
    message: Any,
    level: str,
    *,
    call_site: Optional[FrameType],
    group: str,
    manual: bool = False,
    extra: Optional[Dict[str, Any]] = None,
) -> Capture:
    """A message event's capture: its stack is ``call_site`` outwards."""
    frames, omitted = frames_from_frame(call_site)
    return Capture(
        level,
        MANUAL_TYPE if manual else MESSAGE_TYPE,
        text_of(message, MAX_MESSAGE_CHARS),
        frames,
        omitted=omitted,
        manual=manual,
        group=group,
        extra=extra,
    )
