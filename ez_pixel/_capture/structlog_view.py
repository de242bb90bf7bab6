"""Reading what structlog made: event dicts and the log records that carry them.

Shared by :class:`~ez_pixel.structlog.PixelProcessor` (an event dict in the
processor chain) and :class:`~ez_pixel.PixelHandler` (a record made by
``ProcessorFormatter.wrap_for_formatter``, which carries the event dict as
``msg``). Runs on the caller's thread and never imports structlog: records of
structlog exist only once the app has loaded it.
"""

import logging
import reprlib
import sys
from types import FrameType, TracebackType
from typing import Any, Dict, MutableMapping, Optional, Tuple, Type

from .._guard import swallowed
from .._text import cut, text_of
from ..contract import MAX_MESSAGE_CHARS
from .records import claimed

#: What a structlog processor receives and returns.
EventDict = MutableMapping[str, Any]
ExcInfo = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]

#: Method names (and ``level`` values) structlog uses, as logging level numbers.
_LEVELS: Dict[str, int] = {
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
    "exception": logging.ERROR,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "msg": logging.INFO,
    "debug": logging.DEBUG,
    "notset": logging.NOTSET,
}

#: Keys structlog itself puts in an event dict: never part of ``context``.
STRUCTLOG_KEYS = frozenset(
    (
        "event",
        "level",
        "level_number",
        "logger",
        "timestamp",
        "exc_info",
        "exception",
        "stack",
        "stack_info",
        "_record",
        "_from_structlog",
        "positional_args",
    )
)
#: Limits of the ``context`` field: keys kept, characters per value, in all.
MAX_CONTEXT_KEYS = 50
MAX_CONTEXT_VALUE = 200
MAX_CONTEXT_CHARS = 4096
_MAX_KEY = 100
#: Longest rendered exception text kept in a message event.
_MAX_RENDERED = 3000

#: Modules whose frames are never the call site of a log call.
_LIBRARY_MODULES = frozenset(("structlog", "ez_pixel", "logging"))


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` limits for containers; any other object's own ``repr``, cut.

    A raising ``repr`` propagates (reprlib would hide it behind an address),
    so that :func:`_value_text` names the value's type instead.
    """

    def repr_instance(self, x: Any, level: int) -> str:
        text = repr(x)
        return text if len(text) <= self.maxother else text[: self.maxother - 1] + "…"


_repr = _BoundedRepr()
_repr.maxlevel = 3
_repr.maxstring = 60
_repr.maxother = MAX_CONTEXT_VALUE
_repr.maxlong = 60
for _attr in ("maxdict", "maxlist", "maxtuple", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_repr, _attr, 10)


#: Values whose builtin ``repr`` is short and cannot fail.
_PLAIN = (int, float, type(None))


def _value_text(value: Any) -> str:
    """``value`` as at most :data:`MAX_CONTEXT_VALUE` characters, never raising."""
    render = repr if type(value) in _PLAIN or type(value) is bool else _repr.repr
    return text_of(value, MAX_CONTEXT_VALUE, render, what="unrepresentable")


def context_of(event_dict: EventDict) -> Dict[str, str]:
    """The bound key/values of ``event_dict`` as the event's ``context`` field.

    structlog's own keys (:data:`STRUCTLOG_KEYS`) are left out; each value is
    its ``str`` (strings) or a bounded ``repr``, cut to
    :data:`MAX_CONTEXT_VALUE` characters; at most :data:`MAX_CONTEXT_KEYS`
    keys and about :data:`MAX_CONTEXT_CHARS` characters in all, in the order
    they were bound.
    """
    context: Dict[str, str] = {}
    total = 0
    with swallowed:  # a mapping that fails while iterated: keep what was read
        for key, value in event_dict.items():
            if key in STRUCTLOG_KEYS:
                continue
            if len(context) >= MAX_CONTEXT_KEYS:
                break
            name = cut(key, _MAX_KEY) if isinstance(key, str) else _value_text(key)[:_MAX_KEY]
            text = _value_text(value)
            total += len(name) + len(text)
            if total > MAX_CONTEXT_CHARS:
                break
            context[name] = text
    return context


def level_number(value: Any) -> Optional[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        known = _LEVELS.get(value.lower())
        if known is not None:
            return known
        custom = logging.getLevelName(value.upper())  # a name given to addLevelName
        if isinstance(custom, int):
            return custom
    return None


def levelno_of(method_name: str, event_dict: EventDict) -> Optional[int]:
    """The logging level number of a log call, from whatever structlog left us."""
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        return record.levelno
    number = _LEVELS.get(method_name) if isinstance(method_name, str) else None
    if number is not None:
        return number
    for key in ("level_number", "level"):
        number = level_number(event_dict.get(key))
        if number is not None:
            return number
    return level_number(method_name)


def _truthy(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:
        return False


def _exc_info(value: Any) -> Optional[ExcInfo]:
    """An ``exc_info`` value in any form structlog accepts, as a tuple."""
    if value is True:  # log.exception(...), the usual case, answered first
        return _handled()
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[1], BaseException)
        and (value[2] is None or isinstance(value[2], TracebackType))
    ):
        return (type(value[1]), value[1], value[2])
    return _handled() if _truthy(value) else None


def _handled() -> Optional[ExcInfo]:
    """The exception being handled, as an ``exc_info`` tuple; None outside an ``except``."""
    current = sys.exc_info()
    return (type(current[1]), current[1], current[2]) if current[1] is not None else None


def _line_names(line: str, name: str) -> bool:
    head = line.split(":", 1)[0].strip()
    return head == name or head.endswith("." + name)


def _rendered_is(rendered: Any, exc: BaseException) -> bool:
    """Whether ``rendered`` (an ``exception`` key) shows an exception of ``exc``'s type."""
    if isinstance(rendered, str):
        name = type(exc).__qualname__
        return any(_line_names(line, name) for line in rendered.splitlines()[-20:])
    if isinstance(rendered, list):  # dict_tracebacks
        name = type(exc).__name__
        return any(isinstance(part, dict) and part.get("exc_type") == name for part in rendered)
    return False


def _rendered_text(rendered: Any) -> str:
    if isinstance(rendered, list):
        lines = []
        for part in rendered[:10]:
            if isinstance(part, dict):
                exc_type = text_of(part.get("exc_type", ""), 200)
                exc_value = text_of(part.get("exc_value", ""), 500)
                lines.append(f"{exc_type}: {exc_value}")
        return "\n".join(lines)
    return text_of(rendered, _MAX_RENDERED)


def exception_of(event_dict: EventDict) -> Tuple[Optional[ExcInfo], Optional[str]]:
    """The exception an event dict is about, else the text of one already rendered.

    ``exc_info`` may be ``True`` (the exception being handled), an exception or
    a ``sys.exc_info()`` tuple. When a processor before ours has consumed it
    (``format_exc_info``, ``dict_tracebacks``), the exception being handled is
    used if the rendered ``exception`` shows its type; otherwise the rendered
    text is returned for a message event.
    """
    if "exc_info" in event_dict:
        return _exc_info(event_dict["exc_info"]), None
    rendered = event_dict.get("exception")
    if rendered is None:
        return None, None
    current = sys.exc_info()[1]
    if current is not None and _rendered_is(rendered, current):
        return (type(current), current, current.__traceback__), None
    return None, _rendered_text(rendered)


def event_text(event_dict: EventDict) -> Tuple[str, str]:
    """The log message (``event`` with its positional args) and the unformatted event."""
    event = event_dict.get("event")
    template = text_of(event, MAX_MESSAGE_CHARS) if event is not None else ""
    args = event_dict.get("positional_args")
    if not args or not isinstance(event, str):
        return template, template
    try:
        if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], dict) and args[0]:
            return text_of(event % args[0], MAX_MESSAGE_CHARS), template
        return text_of(event % args, MAX_MESSAGE_CHARS), template
    except Exception:
        return template, template


def _library(name: Any) -> bool:
    return isinstance(name, str) and name.partition(".")[0] in _LIBRARY_MODULES


def call_site() -> Optional[FrameType]:
    """The innermost frame outside structlog, ez-pixel and logging: the log call.

    Under an async log method the chain runs in a thread pool; structlog then
    keeps the caller's frame (``FilteringBoundLogger`` since 23.3, the stdlib
    ``BoundLogger`` since 24.2) and the walk starts there. Without it the
    caller is out of reach, and None beats naming the pool's worker.
    """
    frame: Optional[FrameType] = None
    contextvars = sys.modules.get("structlog.contextvars")
    # structlog >= 23.3 remembers the caller's frame when an async method hands
    # the log call to a thread pool; older versions leave it to this thread.
    async_stack = getattr(contextvars, "_ASYNC_CALLING_STACK", None)
    if async_stack is not None:
        frame = async_stack.get(None)
    if frame is None:
        frame = sys._getframe(1)
    steps = 0
    while frame is not None and steps < 200:
        name = frame.f_globals.get("__name__")
        if not _library(name):
            return None if name == "concurrent.futures.thread" else frame
        frame = frame.f_back
        steps += 1
    return None


def group_of(logger_name: str, template: str) -> str:
    """What message events group by besides their call site (as PixelHandler's)."""
    return f"{logger_name}\x1f{template}"[:1000]


class RecordView:
    """How :class:`~ez_pixel.PixelHandler` should report a record structlog made."""

    __slots__ = ("call_site", "exc_info", "extra", "group", "message", "skip")

    def __init__(
        self,
        skip: bool = False,
        message: str = "",
        group: str = "",
        exc_info: Optional[ExcInfo] = None,
        extra: Optional[Dict[str, Any]] = None,
        call_site: Optional[FrameType] = None,
    ) -> None:
        #: True when a PixelProcessor has dealt with the log call already.
        self.skip = skip
        self.message = message
        self.group = group
        self.exc_info = exc_info
        self.extra: Dict[str, Any] = extra or {}
        self.call_site = call_site


_SKIP = RecordView(skip=True)


def record_view(record: logging.LogRecord) -> Optional[RecordView]:
    """For PixelHandler: a view of ``record`` if structlog made it, else None.

    Records of log calls a :class:`PixelProcessor` dealt with are skipped.
    A record made by ``ProcessorFormatter.wrap_for_formatter`` carries the
    event dict as ``msg``: its message is the ``event``, its exception the
    dict's ``exc_info`` and its bound values the ``context`` field.
    """
    if claimed(record):
        return _SKIP
    event_dict = record.msg
    if not isinstance(event_dict, dict) or "event" not in event_dict:
        return None
    message, template = event_text(event_dict)
    exc_info, rendered = exception_of(event_dict)
    if rendered:
        message = f"{message}\n{rendered}"
    return RecordView(
        message=message,
        group=group_of(record.name, template),
        exc_info=exc_info,
        extra={"context": context_of(event_dict)},
        call_site=call_site(),
    )
