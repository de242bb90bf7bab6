"""Putting a PixelHandler on the root logger without changing what the app sees.

A handler on the root logger has two side effects in the standard library,
both of which would silently change an application that never configured
logging:

- ``logging.lastResort`` prints WARNING and above to stderr only while no
  handler at all is found for a record; ours would count, and the app's
  warnings, errors and asyncio's "Task exception was never retrieved" would
  vanish from stderr. :class:`LastResortStandIn` prints them as before.
- libraries that add their own console handler only when no handler would
  print their records (werkzeug, Flask's ``app.logger``) ask the same
  question; the stand-in's level keeps werkzeug's answer, and :mod:`.web`
  answers Flask's as if ez-pixel were not there.
- ``logging.basicConfig()`` does nothing once the root logger has a handler;
  a script calling it after ``init_pixel()`` would lose its console output.
  :class:`RootAttachment` lets ``basicConfig`` configure as if we were not there.
"""

import logging
from typing import Any, Callable, List, Optional

from ..handler import PixelHandler
from .configwatch import unwatch, watch


class LastResortStandIn(logging.Handler):
    """Hands a record to ``logging.lastResort`` when no handler but ez-pixel's would see it.

    Its level is ``lastResort``'s (WARNING), not NOTSET: libraries that add a
    console handler of their own when none handles their level (werkzeug, at
    INFO) must not take it for one.
    """

    def __init__(self) -> None:
        last = logging.lastResort
        super().__init__(last.level if last is not None else logging.WARNING)

    def handle(self, record: logging.LogRecord) -> Any:
        """Print ``record`` the way the standard library would have without ez-pixel."""
        last = logging.lastResort
        if last is None or record.levelno < last.level:
            return False
        logger: Optional[logging.Logger] = logging.getLogger(record.name)
        while logger is not None:
            for handler in logger.handlers:
                if not isinstance(handler, (PixelHandler, LastResortStandIn)):
                    return False  # the app has a handler of its own for this record
            if not logger.propagate:
                break
            logger = logger.parent
        last.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Unused: :meth:`handle` does the work."""


class RootAttachment:
    """init_pixel's PixelHandler on the root logger, kept there while ez-pixel is on.

    A later logging configuration (``dictConfig`` with a ``root`` entry,
    ``fileConfig``, ``basicConfig(force=True)``, a framework's own setup)
    empties the root logger; :meth:`attach` runs after each (see
    :mod:`.configwatch`) and puts the handler back, unless the configuration
    put a PixelHandler of its own there. What the app prints is unchanged:
    the stand-in comes back only to a root logger left without handlers.
    """

    def __init__(self) -> None:
        self.root = logging.getLogger()
        #: The root handler; also what the server-logger taps report through.
        self.handler = PixelHandler(logging.ERROR)
        self._standin = LastResortStandIn()
        self._active = True
        self.attach()
        self._original_basic_config: Callable[..., None] = logging.basicConfig
        logging.basicConfig = self._basic_config  # type: ignore[assignment]
        watch(self.attach)

    @property
    def added(self) -> List[logging.Handler]:
        """Which of ours are on the root logger now."""
        return [h for h in self.root.handlers if h is self.handler or h is self._standin]

    def attach(self) -> None:
        """Put the handler (and, on an empty root, the stand-in) on the root logger.

        Nothing happens when a PixelHandler is there already: ours, or the
        application's own, which means the application took over.
        """
        if not self._active:
            return
        with logging._lock:  # type: ignore[attr-defined]  # no configuration meanwhile
            handlers = self.root.handlers
            if any(isinstance(h, PixelHandler) for h in handlers):
                return
            if not handlers:
                self.root.addHandler(self._standin)
            self.root.addHandler(self.handler)

    def _basic_config(self, **kwargs: Any) -> None:
        """``logging.basicConfig``, configuring the root logger as if ez-pixel were not on it."""
        ours = self.added
        alone = bool(ours) and len(ours) == len(self.root.handlers)
        for handler in ours if alone else ():
            self.root.removeHandler(handler)
        try:
            self._original_basic_config(**kwargs)
        finally:  # also after force=True, which removes every root handler
            if self._standin in self.root.handlers and len(self.root.handlers) > 1:
                self.root.removeHandler(self._standin)
            self.attach()

    def remove(self) -> None:
        """Detach what this added and stop watching; ``logging.basicConfig`` goes back."""
        self._active = False
        unwatch(self.attach)
        for handler in (self.handler, self._standin):
            self.root.removeHandler(handler)
        if logging.basicConfig == self._basic_config:
            logging.basicConfig = self._original_basic_config  # type: ignore[assignment]
