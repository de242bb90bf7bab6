"""``PixelHandler``: the logging handler at the core of ez-pixel."""

import logging
import sys
from typing import Any, Dict, Optional, Union, cast

from ._capture.capture import find_caller, log_message_of
from ._capture.frameworks import is_client_error, request_of
from ._capture.records import is_ignored, level_name, seen_before
from ._event.snapshot import Capture, format_log_message
from ._guard import INTERNAL_ERRORS, sdk_thread
from ._text import text_of
from .client import Client, client_or_warn, current_client
from .contract import MAX_MESSAGE_CHARS as MAX_CHARS
from .options import make_options

#: Python 3.12+ ``Filterer.filter`` passes the record on (instead of True).
_FILTER_GIVES_RECORD = sys.version_info >= (3, 12)

#: Servers' access logs: one line per response. Django's ``runserver`` writes a
#: 500's line at ERROR on ``django.server``; the error itself is reported from
#: ``django.request``, so the line is never a second event.
ACCESS_LOGGERS = frozenset(("django.server", "uvicorn.access", "gunicorn.access"))
#: Servers that log an exception they caught as text (werkzeug's ``Error on
#: request``, with the traceback in the message), from inside their ``except``.
TRACEBACK_AS_TEXT = frozenset(("werkzeug",))


#: Argument types whose text cannot change after the log call: a message
#: with only these (and short strings) is %-formatted on the worker.
_SETTLED_ARGS = frozenset((int, float, str, bool, type(None)))
_GET_MESSAGE = logging.LogRecord.getMessage


def _record_message(record: logging.LogRecord) -> str:
    """The record's message, bounded as :func:`log_message_of` bounds it."""
    try:
        message = record.getMessage()
        return message if len(message) <= MAX_CHARS else message[: MAX_CHARS + 1]
    except Exception:  # a %-format mismatch must not lose the report
        try:
            return text_of(format_log_message(record.msg, record.args), MAX_CHARS)
        except Exception:
            return "<unformattable log message>"


def _set_log_message(capture: Capture, record: logging.LogRecord) -> None:
    """The record's message on ``capture``; formatted later when nothing in it can change.

    Formatting is the caller's cost, and a template whose arguments are
    numbers, short strings, booleans or None reads the same on the worker.
    """
    template, args = record.msg, record.args
    if (
        type(template) is str
        and type(args) is tuple
        and len(template) <= MAX_CHARS
        and type(record).getMessage is _GET_MESSAGE
    ):
        for arg in args:
            kind = type(arg)
            if kind not in _SETTLED_ARGS or (kind is str and len(cast(str, arg)) > MAX_CHARS):
                break
        else:
            capture.log_message = template
            capture.log_args = args
            return
    capture.log_message = _record_message(record)


def _template(record: logging.LogRecord) -> str:
    try:
        return f"{record.name}\x1f{record.msg!s}"[:1000]
    except Exception:
        return record.name


def _extra(record: logging.LogRecord, view: Any) -> Dict[str, Any]:
    """The event's extra fields: the logger, the request, structlog's bound values."""
    extra: Dict[str, Any] = {"logger": record.name}
    if "request" in record.__dict__ or "flask" in sys.modules:
        request = request_of(record)
        if request is not None:
            extra["request"] = request
    if view is not None:
        extra.update(view.extra)
    return extra


def _structlog_view(record: logging.LogRecord) -> Any:
    """How a record structlog made should be reported; None for the rest.

    Callers ask only once structlog is loaded: without it, no record is structlog's.
    """
    from ._capture.structlog_view import record_view

    return record_view(record)


class PixelHandler(logging.Handler):
    """Turns log records at WARNING and above into ez-pixel events.

    Records of the ``ez_pixel`` and ``urllib3`` loggers and their children
    (and of loggers named to :func:`ez_pixel.ignore_logger`) are never reported,
    nor servers' access-log lines (:data:`ACCESS_LOGGERS`).

    ``CRITICAL`` records become ``fatal`` events, ``ERROR`` ``error`` and
    ``WARNING`` ``warning``; the default level sends ERROR and above. A record
    with ``exc_info`` becomes an exception event with that traceback; one
    without becomes a message event whose stack is the logging call site.

    Without ``project_key``/``ingest_url`` the handler reports through the
    client :func:`ez_pixel.init_pixel` made, or one configured from the
    environment or the project's ``.env`` (the same precedence as
    ``init_pixel``); with neither, records are dropped and stderr says so
    once per process. With them it owns a client of its own,
    which :meth:`close` (called by ``logging.shutdown()`` at exit) flushes and
    stops. Other keyword arguments are client options.
    """

    def __init__(
        self,
        level: Union[int, str] = logging.ERROR,
        *,
        project_key: Optional[str] = None,
        ingest_url: Optional[str] = None,
        **options: Any,
    ) -> None:
        super().__init__(level)
        self._own: Optional[Client] = None
        if project_key or ingest_url or options:
            self._own = Client(make_options(project_key, ingest_url, **options))
            self._own.start()

    @property
    def client(self) -> Optional[Client]:
        """The client this handler reports through right now, if any."""
        return self._own or current_client()

    def handle(self, record: logging.LogRecord) -> Any:
        """Filter and emit without the handler lock: :meth:`emit` is thread-safe."""
        if not self.filters:  # the usual case, without a call to ask no one
            self.emit(record)
            return record if _FILTER_GIVES_RECORD else True
        allowed = self.filter(record)
        if allowed:
            self.emit(allowed if isinstance(allowed, logging.LogRecord) else record)
        return allowed

    def emit(self, record: logging.LogRecord) -> None:
        """Queue ``record`` as an event; never raises, never blocks on the network."""
        if getattr(sdk_thread, "active", False) or is_ignored(record.name):
            return
        level = level_name(record.levelno)
        if level is None:
            return
        client = self._own or client_or_warn()
        if client is None:
            return
        sdk_thread.active = True
        try:
            self._report(client, record, level)
        except Exception:  # client.guard, written out: a with-block would cost every call
            try:
                client.count(INTERNAL_ERRORS)
            except Exception:  # the counter itself failed: nothing left to tell
                pass
        finally:
            sdk_thread.active = False

    def _report(self, client: Client, record: logging.LogRecord, level: str) -> None:
        fields = record.__dict__
        if (
            "status_code" in fields  # asked first: the usual record has none
            and not client.options.report_client_errors
            and is_client_error(record)
        ):
            return
        if record.name in ACCESS_LOGGERS:
            return
        exc_info = record.exc_info
        if not exc_info and record.name in TRACEBACK_AS_TEXT:
            exc_info = sys.exc_info()  # the exception the server is handling, if any
        view = _structlog_view(record) if "structlog" in sys.modules else None
        if view is not None:
            if view.skip:  # a PixelProcessor has dealt with this log call
                return
            exc_info = exc_info or view.exc_info
        if exc_info and exc_info[1] is not None:
            # None for a second record of the same error (one event, one flood-gate
            # slot) and during a flood, before the message and the rest are gathered
            capture = client.begin_exception(exc_info[1], level, exc_info[2])
            if capture is not None:
                if view is not None:
                    capture.log_message = log_message_of(view.message)
                else:
                    _set_log_message(capture, record)
                capture.extra = _extra(record, view)
                client.submit(capture)
            return
        if seen_before(record):
            return
        client.capture_message(
            view.message if view is not None else _record_message(record),
            level,
            call_site=(view and view.call_site)
            or find_caller(record.pathname, record.lineno, depth=3),
            group=view.group if view is not None else _template(record),
            extra=_extra(record, view),
        )

    def flush(self) -> None:
        """Wait (up to the shutdown timeout) for this handler's own client."""
        if self._own is not None:
            self._own.flush(self._own.options.shutdown_timeout)

    def close(self) -> None:
        """Flush and stop this handler's own client; the shared one is left alone."""
        try:
            if self._own is not None:
                self._own.close()
        finally:
            super().close()
