"""What ``init_pixel``'s ``capture_*`` switches change beyond the hooks and the root handler.

The ecosystem's SDK (``packages/pixel-py``) has three switches; ez-pixel maps them so:

- ``capture_uncaught=False`` leaves ``sys.excepthook`` and
  ``threading.excepthook`` alone; the exit flush, which the hooks would
  have brought, is registered here instead.
- ``capture_unhandled_rejections`` is about asyncio's reports of a task
  whose exception was never retrieved or a callback that raised. asyncio's
  default exception handler logs them on the ``asyncio`` logger, for every
  loop (also those ``asyncio.run`` makes later), so ez-pixel reports them as
  log records. ``False`` filters that logger out of the root handler; with
  ``capture_logging_errors=False`` and this left on, a handler is put on the
  ``asyncio`` logger alone.
- ``capture_logging_errors=False`` means no root handler (see ``api``).
"""

import atexit
import logging
from typing import List, Optional, Tuple

from .client import Client
from .handler import PixelHandler

#: The logger asyncio's default exception handler reports on.
ASYNCIO_LOGGER = "asyncio"


def _not_asyncio(record: logging.LogRecord) -> bool:
    return not (record.name == ASYNCIO_LOGGER or record.name.startswith(ASYNCIO_LOGGER + "."))


class Switches:
    """Applies the switches for one client; :meth:`remove` undoes it (``close_pixel``)."""

    def __init__(
        self,
        client: Client,
        *,
        exit_flush: bool,
        asyncio_errors: bool,
        root_handler: Optional[PixelHandler],
    ) -> None:
        self._exit = client.worker.close_at_exit if exit_flush else None
        self._filtered: Optional[PixelHandler] = None
        self._attached: List[Tuple[logging.Logger, PixelHandler]] = []
        if self._exit is not None:
            atexit.register(self._exit)
        if not asyncio_errors and root_handler is not None:
            root_handler.addFilter(_not_asyncio)
            self._filtered = root_handler
        elif asyncio_errors and root_handler is None and not _has_pixel_handler():
            logger = logging.getLogger(ASYNCIO_LOGGER)
            handler = PixelHandler(logging.ERROR)
            logger.addHandler(handler)
            self._attached.append((logger, handler))

    def remove(self) -> None:
        """Undo what :meth:`__init__` did."""
        if self._exit is not None:
            atexit.unregister(self._exit)
        if self._filtered is not None:
            self._filtered.removeFilter(_not_asyncio)
        for logger, handler in self._attached:
            logger.removeHandler(handler)


def _has_pixel_handler() -> bool:
    """True when a PixelHandler on the root logger already sees asyncio's records."""
    return any(isinstance(h, PixelHandler) for h in logging.getLogger().handlers)
