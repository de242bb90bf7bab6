"""Where servers and workers keep their errors away from the root logger.

``init_pixel`` puts a :class:`~ez_pixel.PixelHandler` on the root logger, which
sees every record that propagates. Popular servers and frameworks log their
errors where it cannot:

- **uvicorn** logs ``Exception in ASGI application`` on ``uvicorn.error``, and
  its default logging config makes ``uvicorn`` non-propagating. It also runs
  ``dictConfig`` when it starts, which removes any handler on its loggers, so a
  ``uvicorn.run(app)`` after ``init_pixel`` would drop one attached there.
- **gunicorn** logs errors in workers (``Error handling request``) and in the
  arbiter (``Worker ... was sent SIGKILL``) on ``gunicorn.error``, which it
  makes non-propagating.
- **Django** logs a failing request on ``django.request``, under ``django``,
  which a ``LOGGING`` like the one in Django's own how-to makes
  non-propagating (``"propagate": False``, with its own console handler).
- **Celery** empties the root logger's handlers when a worker starts
  (``worker_hijack_root_logger``, on by default), and its task loggers
  (``get_task_logger``) hang under the non-propagating ``celery.task``.
- An app's own configuration can make any of them, or Celery's
  ``celery.app.trace`` and ``asyncio``, non-propagating.

:class:`Integrations` handles them without importing any of them: a
filter on each of these error loggers that exists (``dictConfig`` and ``fileConfig`` remove a
logger's handlers but keep its filters) hands the records to a PixelHandler,
and, when Celery is loaded, receivers of its ``after_setup_logger`` and
``after_setup_task_logger`` signals put a PixelHandler back on the root logger
and on ``celery.task``. A record that also reaches another PixelHandler is
still reported once. Django's and Flask's request-exception signals are in
:mod:`.web`. Whatever the application loads or configures later is picked up
after each logging configuration call (:mod:`.configwatch`): Django always
runs one in ``django.setup()``.
"""

import copy
import importlib
import logging
import sys
from typing import Any, List, Optional, Tuple

from .._guard import swallowed
from ..handler import PixelHandler
from .configwatch import unwatch, watch
from .web import RequestErrors

#: Where servers and frameworks log their errors, on loggers that they (or an
#: app's logging configuration) may make non-propagating.
SERVER_LOGGERS = (
    "uvicorn.error",
    "gunicorn.error",
    "django.request",
    "celery.app.trace",
    "asyncio",
)
#: The non-propagating parent of Celery's task loggers.
CELERY_TASK_LOGGER = "celery.task"
_DISPATCH_UID = "ez_pixel.integrations"


def _without_query(value: object) -> object:
    """A request target (``/path?query``, ``http://host/path?query``) without its query."""
    if isinstance(value, str) and "?" in value and value.startswith(("/", "http://", "https://")):
        return value.split("?", 1)[0]
    return value


def without_query_strings(record: logging.LogRecord) -> logging.LogRecord:
    """``record``, or a copy whose request-target arguments lost their query string.

    gunicorn logs ``Error handling request GET /path?query`` with the raw
    request target as an argument; a query string may identify a user. The
    server's own log output keeps the original record.
    """
    args = record.args
    if not isinstance(args, tuple):
        return record
    cleaned = tuple(_without_query(arg) for arg in args)
    if all(new is old for new, old in zip(cleaned, args)):
        return record
    clean = copy.copy(record)
    clean.args = cleaned
    return clean


class ServerLogTap(logging.Filter):
    """A logger filter that hands the records it sees to a PixelHandler and lets all pass.

    Only records logged on the logger itself pass its filters, which is where
    uvicorn and gunicorn log their errors. Query strings in the records'
    arguments are not reported (see :func:`without_query_strings`).
    """

    def __init__(self, handler: PixelHandler) -> None:
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        """Report ``record`` when it reaches the handler's level; never blocks it."""
        with swallowed:
            if record.levelno >= self.handler.level:
                self.handler.handle(without_query_strings(record))
        return True


def _has_pixel_handler(logger: logging.Logger) -> bool:
    return any(isinstance(handler, PixelHandler) for handler in logger.handlers)


def _celery_signals() -> Any:
    """``celery.signals`` if the application has loaded Celery, else None."""
    if "celery" not in sys.modules:
        return None
    with swallowed:
        return importlib.import_module("celery.signals")
    return None


class Integrations:
    """What ``init_pixel`` adds beyond the root handler; :meth:`remove` undoes it."""

    def __init__(self, handler: Optional[PixelHandler] = None) -> None:
        #: Reports what the server loggers and Celery's loggers would otherwise hide.
        self.handler = handler or PixelHandler(logging.ERROR)
        self._taps: List[Tuple[logging.Logger, ServerLogTap]] = []
        self._attached: List[logging.Logger] = []
        self._signals: Any = None
        self._requests = RequestErrors(self.handler)
        self.refresh()
        watch(self.refresh)

    def refresh(self) -> None:
        """Tap the server loggers and connect to the frameworks loaded since the last call."""
        self._tap_existing()
        if self._signals is None:
            self._signals = _celery_signals()
            if self._signals is not None:
                self._connect(self._signals)
        self._requests.refresh()

    def _tap_existing(self) -> None:
        """A tap on each server logger that exists (made by its framework, never by us:
        a logger made early would be disabled by a later ``disable_existing_loggers``)."""
        tapped = {logger.name for logger, _ in self._taps}
        for name in SERVER_LOGGERS:
            logger = logging.Logger.manager.loggerDict.get(name)
            if name not in tapped and isinstance(logger, logging.Logger):
                tap = ServerLogTap(self.handler)
                logger.addFilter(tap)
                self._taps.append((logger, tap))

    def _connect(self, signals: Any) -> None:
        signals.after_setup_logger.connect(
            self._after_setup_logger, weak=False, dispatch_uid=_DISPATCH_UID
        )
        signals.after_setup_task_logger.connect(
            self._after_setup_task_logger, weak=False, dispatch_uid=_DISPATCH_UID
        )
        task_logger = logging.Logger.manager.loggerDict.get(CELERY_TASK_LOGGER)
        if isinstance(task_logger, logging.Logger):  # a worker already set up
            self._after_setup_task_logger(logger=task_logger)

    def _attach(self, logger: logging.Logger) -> None:
        if not _has_pixel_handler(logger):
            logger.addHandler(self.handler)
            self._attached.append(logger)

    def _after_setup_logger(self, logger: Any = None, **kwargs: Any) -> None:
        """Celery configured the root logger, emptying it first: put a PixelHandler back."""
        self._attach(logging.getLogger())
        self._tap_existing()

    def _after_setup_task_logger(self, logger: Any = None, **kwargs: Any) -> None:
        """Celery configured ``celery.task``, which does not propagate: report from it too."""
        if isinstance(logger, logging.Logger) and not logger.propagate:
            self._attach(logger)

    def remove(self) -> None:
        """Take off every filter, handler and signal receiver this added."""
        unwatch(self.refresh)
        self._requests.remove()
        for logger, tap in self._taps:
            logger.removeFilter(tap)
        for logger in self._attached:
            logger.removeHandler(self.handler)
        self._taps = []
        self._attached = []
        if self._signals is not None:
            for signal in (self._signals.after_setup_logger, self._signals.after_setup_task_logger):
                with swallowed:
                    signal.disconnect(dispatch_uid=_DISPATCH_UID)
            self._signals = None
