"""Django's and Flask's ``got_request_exception`` signals: a failing request, whatever the logging.

Both frameworks send ``got_request_exception`` for every unhandled exception
in a request (a 500), before they log it, and whatever the application's
logging configuration says:

- **Django** logs the error on ``django.request``, which a ``LOGGING`` may make
  non-propagating (Django's own how-to does, for ``django``), disable
  (``disable_existing_loggers`` without naming ``django``) or silence;
- **Flask** in debug mode (``flask run --debug``, ``app.run(debug=True)``) and
  under ``PROPAGATE_EXCEPTIONS`` does not log at all: it re-raises, for the
  debugger.

:class:`RequestErrors` connects to the signals of whichever of the two the
application has loaded (it imports neither) and hands the PixelHandler a
record shaped like the one the framework logs (same logger, same message, the
request on it), so the event is the same in every configuration. The
exception is marked as reported, so the framework's own log record, reaching
a PixelHandler afterwards, is not reported again: one event per failing request.
"""

import importlib
import logging
import sys
from typing import Any, List, Tuple

from .._guard import swallowed
from ..handler import PixelHandler
from .rootlog import LastResortStandIn

_DISPATCH_UID = "ez_pixel.request_errors"


def _loaded(module: str, signals: str) -> Any:
    """The framework's signals module if the application loaded the framework, else None."""
    if module not in sys.modules:
        return None
    with swallowed:
        return importlib.import_module(signals)
    return None


class RequestErrors:
    """Receivers of Django's and Flask's ``got_request_exception``; :meth:`remove` disconnects."""

    def __init__(self, handler: PixelHandler) -> None:
        self.handler = handler
        self._connected: List[Tuple[str, Any]] = []
        self._flask_shim: Any = None
        self.refresh()

    def refresh(self) -> None:
        """Connect to the frameworks loaded since the last call."""
        names = {name for name, _ in self._connected}
        if "django" not in names:
            django = _loaded("django", "django.core.signals")
            if django is not None:
                django.got_request_exception.connect(
                    self._django_error, weak=False, dispatch_uid=_DISPATCH_UID
                )
                self._connected.append(("django", django.got_request_exception))
        if "flask" not in names:
            flask = _loaded("flask", "flask.signals")
            if flask is not None:
                flask.got_request_exception.connect(self._flask_error, weak=False)
                self._connected.append(("flask", flask.got_request_exception))
                self._shim_flask_logging()

    def _shim_flask_logging(self) -> None:
        """Flask adds its console handler to ``app.logger`` unless a handler would print
        its records (``flask.logging.has_level_handler``): ours must not count."""
        module = sys.modules.get("flask.logging")
        original = getattr(module, "has_level_handler", None)
        if module is None or original is None:
            return
        ours = self.handler

        def has_level_handler(logger: logging.Logger) -> bool:
            level = logger.getEffectiveLevel()
            current: Any = logger
            for _ in range(64):  # a logger chain is short; never loop forever
                if current is None:
                    return False
                for handler in current.handlers:
                    mine = handler is ours or isinstance(handler, LastResortStandIn)
                    if not mine and handler.level <= level:
                        return True
                if not current.propagate:
                    return False
                current = current.parent
            return False

        setattr(module, "has_level_handler", has_level_handler)  # noqa: B010
        self._flask_shim = (module, original, has_level_handler)

    def _report(self, record: logging.LogRecord) -> None:
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None and record.levelno >= self.handler.level:
            self.handler.handle(record)

    def _django_error(self, sender: Any = None, request: Any = None, **kwargs: Any) -> None:
        """As ``django.request`` logs it: ``Internal Server Error: /path``, the request on it."""
        with swallowed:
            record = logging.LogRecord(
                "django.request",
                logging.ERROR,
                __file__,
                0,
                "Internal Server Error: %s",
                (getattr(request, "path", "?"),),
                sys.exc_info(),
            )
            record.request = request
            record.status_code = 500
            self._report(record)

    def _flask_error(self, sender: Any = None, exception: Any = None, **kwargs: Any) -> None:
        """As Flask's ``log_exception`` logs it on ``app.logger``: ``Exception on /path [GET]``."""
        with swallowed:
            exc_info: Any = sys.exc_info()
            if exc_info[1] is not exception and isinstance(exception, BaseException):
                exc_info = (type(exception), exception, exception.__traceback__)
            flask = sys.modules["flask"]
            request = flask.request
            record = logging.LogRecord(
                str(getattr(sender, "name", "flask.app")),
                logging.ERROR,
                __file__,
                0,
                "Exception on %s [%s]",
                (request.path, request.method),
                exc_info,
            )
            self._report(record)

    def remove(self) -> None:
        """Disconnect every receiver."""
        for name, signal in self._connected:
            with swallowed:
                if name == "django":
                    signal.disconnect(dispatch_uid=_DISPATCH_UID)
                else:
                    signal.disconnect(self._flask_error)
        self._connected = []
        if self._flask_shim is not None:
            module, original, shim = self._flask_shim
            if getattr(module, "has_level_handler", None) is shim:
                setattr(module, "has_level_handler", original)  # noqa: B010
            self._flask_shim = None
