"""Putting a PixelHandler on the root logger without changing what the app sees.

A handler on the root logger has two side effects in the standard library,
both of which would silently change an application that never configured
logging:

- ``logging.lastResort`` prints WARNING and above to stderr only while no
  handler at all is found for a record; ours would count, and the app's
  warnings, errors and asyncio's "Task exception was never retrieved" would
  vanish from stderr. :class:`LastResortStandIn` prints them as before.
- ``logging.basicConfig()`` does nothing once the root logger has a handler;
  a script calling it after ``init_pixel()`` would lose its console output.
  :class:`RootAttachment` lets ``basicConfig`` configure as if we were not there.
"""

import logging
from typing import Any, Callable, List, Optional

from ..handler import PixelHandler


class LastResortStandIn(logging.Handler):
    """Hands a record to ``logging.lastResort`` when no handler but ez-pixel's would see it."""

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
    """What init_pixel adds to the root logger, and the basicConfig shim."""

    def __init__(self) -> None:
        self.root = logging.getLogger()
        self.added: List[logging.Handler] = []
        if not any(isinstance(h, PixelHandler) for h in self.root.handlers):
            if not self.root.handlers:
                self.added.append(LastResortStandIn())
            self.added.append(PixelHandler(logging.ERROR))
        for handler in self.added:
            self.root.addHandler(handler)
        self._original_basic_config: Callable[..., None] = logging.basicConfig
        logging.basicConfig = self._basic_config  # type: ignore[assignment]

    @property
    def handler(self) -> Optional[PixelHandler]:
        """The PixelHandler this attached, if it attached one."""
        return next((h for h in self.added if isinstance(h, PixelHandler)), None)

    def _basic_config(self, **kwargs: Any) -> None:
        """``logging.basicConfig``, configuring the root logger as if ez-pixel were not on it."""
        ours = [h for h in self.root.handlers if h in self.added]
        alone = bool(ours) and len(ours) == len(self.root.handlers)
        for handler in ours if alone else ():
            self.root.removeHandler(handler)
        try:
            self._original_basic_config(**kwargs)
        finally:  # also after force=True, which removes every root handler
            for handler in ours:
                if handler not in self.root.handlers and (
                    isinstance(handler, PixelHandler) or not self.root.handlers
                ):
                    self.root.addHandler(handler)

    def remove(self) -> None:
        """Detach what this added and put ``logging.basicConfig`` back."""
        for handler in self.added:
            self.root.removeHandler(handler)
        if logging.basicConfig == self._basic_config:
            logging.basicConfig = self._original_basic_config  # type: ignore[assignment]
