"""structlog integration: :class:`PixelProcessor` turns structlog errors into events.

Add an instance to structlog's processor chain after the processors that add
context (``merge_contextvars``, ``add_log_level``, ``add_logger_name``) and
before those that format (``PositionalArgumentsFormatter``,
``format_exc_info``, ``dict_tracebacks``) and the renderer::

    import structlog
    from ez_pixel.structlog import PixelProcessor

    structlog.configure(processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        PixelProcessor(),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ])

The processor passes every event dict through unchanged. For an event at its
level or above it records, on the caller's thread, only what cannot wait
(the exception and its traceback, or the call site, plus the bound values cut
to size) and queues it; rendering, source lines and the network are the
worker's. Events routed on to the standard library are reported once: a
``PixelHandler`` skips the records of log calls this processor has seen.

Importing :mod:`ez_pixel` never imports structlog; this module does, and says
which extra to install when it is missing.
"""

import logging
import reprlib
import sys
import threading
from types import FrameType, TracebackType
from typing import (
    Any,
    Dict,
    Iterable,
    MutableMapping,
    Optional,
    Tuple,
    Type,
    Union,
)

try:
    import structlog.contextvars as _structlog_contextvars
except ImportError as _missing:  # pragma: no cover - tested in a subprocess
    raise ImportError(
        f"ez_pixel.structlog needs structlog ({_missing}); "
        "install it with: pip install 'ez-pixel[structlog]'"
    ) from _missing

from .capture import find_caller, safe_str
from .client import _REPORTED, Client, current_client
from .handler import IGNORED_LOGGERS, _last_record, level_name
from .worker import sdk_thread

__all__ = ["PixelProcessor"]

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

# structlog >= 23.3 remembers the caller's frame when an async method hands
# the log call to a thread pool; older versions leave it to this thread.
_ASYNC_STACK: Any = getattr(_structlog_contextvars, "_ASYNC_CALLING_STACK", None)


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


def _cut(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not valid in a JSON body
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


#: Values whose builtin ``repr`` is short and cannot fail.
_PLAIN = (int, float, type(None))


def _value_text(value: Any) -> str:
    """``value`` as at most :data:`MAX_CONTEXT_VALUE` characters, never raising."""
    try:
        if isinstance(value, str):
            text = value
        elif type(value) in _PLAIN or type(value) is bool:
            text = repr(value)
        else:
            text = _repr.repr(value)
        if not isinstance(text, str):
            raise TypeError
    except Exception:
        try:
            text = f"<unrepresentable {type(value).__name__} object>"
        except Exception:
            text = "<unrepresentable object>"
    return _cut(text, MAX_CONTEXT_VALUE)


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
    try:
        for key, value in event_dict.items():
            if key in STRUCTLOG_KEYS:
                continue
            if len(context) >= MAX_CONTEXT_KEYS:
                break
            name = _cut(key, _MAX_KEY) if isinstance(key, str) else _value_text(key)[:_MAX_KEY]
            text = _value_text(value)
            total += len(name) + len(text)
            if total > MAX_CONTEXT_CHARS:
                break
            context[name] = text
    except Exception:
        pass  # a mapping that fails while iterated: keep what was read
    return context


def _level_number(value: Any) -> Optional[int]:
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


def _levelno(method_name: str, event_dict: EventDict) -> Optional[int]:
    """The logging level number of a log call, from whatever structlog left us."""
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        return record.levelno
    number = _LEVELS.get(method_name) if isinstance(method_name, str) else None
    if number is not None:
        return number
    for key in ("level_number", "level"):
        number = _level_number(event_dict.get(key))
        if number is not None:
            return number
    return _level_number(method_name)


def _truthy(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:
        return False


def _exc_info(value: Any) -> Optional[ExcInfo]:
    """An ``exc_info`` value in any form structlog accepts, as a tuple."""
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[1], BaseException)
        and (value[2] is None or isinstance(value[2], TracebackType))
    ):
        return (type(value[1]), value[1], value[2])
    if _truthy(value):
        current = sys.exc_info()
        if current[1] is not None:
            return (type(current[1]), current[1], current[2])
    return None


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
                exc_type = safe_str(part.get("exc_type", ""), 200)
                exc_value = safe_str(part.get("exc_value", ""), 500)
                lines.append(f"{exc_type}: {exc_value}")
        return "\n".join(lines)
    return safe_str(rendered, _MAX_RENDERED)


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
    template = safe_str(event) if event is not None else ""
    args = event_dict.get("positional_args")
    if not args or not isinstance(event, str):
        return template, template
    try:
        if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], dict) and args[0]:
            return safe_str(event % args[0]), template
        return safe_str(event % args), template
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
    if _ASYNC_STACK is not None:
        frame = _ASYNC_STACK.get(None)
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


def _group(logger_name: str, template: str) -> str:
    """What message events group by besides their call site (as PixelHandler's)."""
    return f"{logger_name}\x1f{template}"[:1000]


# -- reported once: the processor and PixelHandler ---------------------------


class _Claim:
    """A log call this thread's processor has dealt with, for PixelHandler to skip.

    Made inside a ProcessorFormatter, it names the record by its creation time
    and message object. Made before logging, it names the record to come by
    the event dict it will carry (``wrap_for_formatter``) or by its call site;
    the first record it covers then binds it to that record (and to the
    formatters' copies of it, which share both), so that a later call from
    the same line is not mistaken for this one.
    """

    __slots__ = ("key", "msg_id", "site")

    def __init__(
        self,
        site: Optional[Tuple[str, int]] = None,
        msg_id: int = 0,
        key: Optional[Tuple[float, int]] = None,
    ) -> None:
        self.site = site
        self.msg_id = msg_id
        self.key = key

    def covers(self, record: logging.LogRecord) -> bool:
        if self.key is not None:
            return (record.created, id(record.msg)) == self.key
        if (isinstance(record.msg, dict) and id(record.msg) == self.msg_id) or (
            self.site is not None and (record.pathname, record.lineno) == self.site
        ):
            self.key = (record.created, id(record.msg))
            return True
        return False


_claims = threading.local()


def _claim(claim: _Claim) -> None:
    _claims.last = claim


def claimed(record: logging.LogRecord) -> bool:
    """Whether a :class:`PixelProcessor` on this thread already dealt with ``record``.

    A claim lasts until a record it does not cover comes by, so that every
    PixelHandler a record reaches skips it and a stale claim cannot hide
    a later record.
    """
    claim: Optional[_Claim] = getattr(_claims, "last", None)
    if claim is None:
        return False
    if claim.covers(record):
        return True
    _claims.last = None
    return False


def _handler_reported(record: logging.LogRecord) -> bool:
    """Whether a PixelHandler reported the record ``record`` is a formatter's copy of."""
    ref = getattr(_last_record, "ref", None)
    seen = ref() if ref is not None else None
    return seen is not None and seen.msg is record.msg and seen.created == record.created


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
        group=_group(record.name, template),
        exc_info=exc_info,
        extra={"context": context_of(event_dict)},
        call_site=call_site(),
    )


# -- the processor -------------------------------------------------------------


class PixelProcessor:
    """A structlog processor that reports errors to ez-pixel.

    ``PixelProcessor()(logger, method_name, event_dict)`` returns
    ``event_dict`` unchanged. An event at ``level`` or above (default
    ``"error"``) becomes an ez-pixel event: ``critical`` a ``fatal`` one,
    ``error``/``exception`` an ``error`` one, ``warning`` a ``warning`` one;
    lower levels never do. With an exception (``exc_info`` in any form, or
    the exception being handled when a processor before this one rendered it)
    the event carries its traceback; without, the event's stack is the log
    call site and events group by the unformatted ``event``, the logger name
    and that site, not by bound values. Bound values go to the event's
    ``context`` field (see :func:`context_of`), the logger name to ``logger``.

    ``ignore_loggers`` names loggers (and their children) whose events are
    never reported. ``client`` is the :class:`~ez_pixel.Client` to report to;
    by default the one :func:`ez_pixel.init_pixel` made, else one configured
    from the ``PIXEL_*`` environment variables, looked up at each event.
    """

    def __init__(
        self,
        level: Union[int, str] = "error",
        *,
        ignore_loggers: Iterable[str] = (),
        client: Optional[Client] = None,
    ) -> None:
        number = _level_number(level)
        if number is None:
            raise ValueError(f"ez-pixel: unknown log level {level!r}")
        self.level = number
        self.ignore_loggers = tuple(IGNORED_LOGGERS) + tuple(ignore_loggers)
        self._children = tuple(name + "." for name in self.ignore_loggers)
        self.client = client

    def __repr__(self) -> str:
        return f"PixelProcessor(level={self.level!r})"

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        """Report ``event_dict`` if it is an error; return it unchanged."""
        try:
            levelno = _levelno(method_name, event_dict)
            if levelno is None or levelno < logging.WARNING:
                return event_dict
            if getattr(sdk_thread, "active", False):
                return event_dict
            client = self.client or current_client()
            if client is None:
                return event_dict
            sdk_thread.active = True
            try:
                self._process(client, logger, event_dict, levelno)
            finally:
                sdk_thread.active = False
        except Exception:
            pass
        return event_dict

    def _ignored(self, name: str) -> bool:
        return name in self.ignore_loggers or name.startswith(self._children)

    def _process(self, client: Client, logger: Any, event_dict: EventDict, levelno: int) -> None:
        record = event_dict.get("_record")
        site: Optional[FrameType] = None
        if isinstance(record, logging.LogRecord):
            # Inside a ProcessorFormatter: a PixelHandler may see this record too.
            if claimed(record) or _handler_reported(record):
                return
            _claim(_Claim(key=(record.created, id(record.msg))))
            site = find_caller(record.pathname, record.lineno, depth=3) or call_site()
            name = record.name
        else:
            record = None
            name = _logger_name(logger, event_dict)
            if isinstance(logger, logging.Logger):
                # Routed on to logging: PixelHandler must skip this call's record.
                site = call_site()
                where = (site.f_code.co_filename, site.f_lineno) if site is not None else None
                _claim(_Claim(site=where, msg_id=id(event_dict)))
        level = level_name(levelno)
        if level is None or levelno < self.level or self._ignored(name):
            return
        exc_info, rendered = exception_of(event_dict)
        if exc_info is not None and (
            getattr(exc_info[1], _REPORTED, False) or client.flooded(exc_info[1], exc_info[2])
        ):
            return
        message, template = event_text(event_dict)
        extra: Dict[str, Any] = {"context": context_of(event_dict)}
        if name:
            extra["logger"] = name
        if exc_info is not None:
            if exc_info[2] is None and site is None:
                site = call_site()
            client.capture_exception(
                exc_info[1], level, tb=exc_info[2], message=message, call_site=site, extra=extra
            )
            return
        if rendered:
            message = f"{message}\n{rendered}"
        if site is None:
            site = call_site()
        client.capture_message(
            message, level, call_site=site, group=_group(name, template), extra=extra
        )


def _logger_name(logger: Any, event_dict: EventDict) -> str:
    name = event_dict.get("logger")
    if isinstance(name, str):
        return name
    name = getattr(logger, "name", None)
    return name if isinstance(name, str) else ""
