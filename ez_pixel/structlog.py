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
from types import FrameType
from typing import Any, Dict, Iterable, Optional, Union

try:
    import structlog.contextvars  # noqa: F401  (the async call-site lookup reads it)
except ImportError as _missing:  # pragma: no cover - tested in a subprocess
    raise ImportError(
        f"ez_pixel.structlog needs structlog ({_missing}); "
        "install it with: pip install 'ez-pixel[structlog]'"
    ) from _missing

from ._capture.capture import find_caller, log_message_of
from ._capture.records import (
    IGNORED_LOGGERS,
    Claim,
    claim,
    claimed,
    handler_reported,
    is_ignored,
    level_name,
)
from ._capture.structlog_view import (
    EventDict,
    call_site,
    context_of,
    event_text,
    exception_of,
    group_of,
    level_number,
    levelno_of,
)
from ._guard import INTERNAL_ERRORS, sdk_thread
from .client import Client, client_or_warn

__all__ = ["PixelProcessor"]


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
    ``context`` field (at most 50 keys, each value cut to 200 characters),
    the logger name to ``logger``.

    ``ignore_loggers`` names loggers (and their children) whose events are
    never reported, besides those :func:`ez_pixel.ignore_logger` names.
    ``client`` is the :class:`~ez_pixel.Client` to report to; by default
    the one :func:`ez_pixel.init_pixel` made, else one configured from the
    ``PIXEL_*`` environment variables, looked up at each event.
    """

    def __init__(
        self,
        level: Union[int, str] = "error",
        *,
        ignore_loggers: Iterable[str] = (),
        client: Optional[Client] = None,
    ) -> None:
        number = level_number(level)
        if number is None:
            raise ValueError(f"ez-pixel: unknown log level {level!r}")
        self.level = number
        self.ignore_loggers = tuple(IGNORED_LOGGERS) + tuple(ignore_loggers)
        #: This processor's own names (is_ignored answers for the rest), and their children.
        self._own_ignored = frozenset(ignore_loggers) - set(IGNORED_LOGGERS)
        self._children = tuple(name + "." for name in self._own_ignored)
        self.client = client

    def __repr__(self) -> str:
        return f"PixelProcessor(level={self.level!r})"

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        """Report ``event_dict`` if it is an error; return it unchanged."""
        # Failures are swallowed (and counted once a client is known) by plain
        # try blocks: a with-block per log call would cost every call.
        try:
            levelno = levelno_of(method_name, event_dict)
            if levelno is None or levelno < logging.WARNING:
                return event_dict
            if getattr(sdk_thread, "active", False):
                return event_dict
            client: Optional[Client] = self.client or client_or_warn()
        except Exception:
            return event_dict
        if client is None:
            return event_dict
        sdk_thread.active = True
        try:
            self._process(client, logger, event_dict, levelno)
        except Exception:
            try:
                client.count(INTERNAL_ERRORS)
            except Exception:  # the counter itself failed: nothing left to tell
                pass
        finally:
            sdk_thread.active = False
        return event_dict

    def _ignored(self, name: str) -> bool:
        if is_ignored(name):
            return True
        return bool(self._own_ignored) and (
            name in self._own_ignored or name.startswith(self._children)
        )

    def _process(self, client: Client, logger: Any, event_dict: EventDict, levelno: int) -> None:
        record = event_dict.get("_record")
        site: Optional[FrameType] = None
        if isinstance(record, logging.LogRecord):
            # Inside a ProcessorFormatter: a PixelHandler may see this record too.
            if claimed(record) or handler_reported(record):
                return
            claim(Claim(key=(record.created, id(record.msg))))
            site = find_caller(record.pathname, record.lineno, depth=3) or call_site()
            name = record.name
        else:
            record = None
            name = _logger_name(logger, event_dict)
            if isinstance(logger, logging.Logger):
                # Routed on to logging: PixelHandler must skip this call's record.
                site = call_site()
                where = (site.f_code.co_filename, site.f_lineno) if site is not None else None
                claim(Claim(site=where, msg_id=id(event_dict)))
        level = level_name(levelno)
        if level is None or levelno < self.level or self._ignored(name):
            return
        exc_info, rendered = exception_of(event_dict)
        capture = None
        if exc_info is not None:
            if exc_info[2] is None and site is None:
                site = call_site()
            # None for an error reported already and during a flood: before the
            # message and the context are gathered, cheap in a hot loop
            capture = client.begin_exception(exc_info[1], level, exc_info[2], site)
            if capture is None:
                return
        message, template = event_text(event_dict)
        extra: Dict[str, Any] = {"context": context_of(event_dict)}
        if name:
            extra["logger"] = name
        if capture is not None:
            capture.log_message = log_message_of(message)
            capture.extra = extra
            client.queue(capture)
            return
        if rendered:
            message = f"{message}\n{rendered}"
        if site is None:
            site = call_site()
        client.capture_message(
            message, level, call_site=site, group=group_of(name, template), extra=extra
        )


def _logger_name(logger: Any, event_dict: EventDict) -> str:
    name = event_dict.get("logger")
    if isinstance(name, str):
        return name
    name = getattr(logger, "name", None)
    return name if isinstance(name, str) else ""
