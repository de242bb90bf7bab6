"""The process hooks ``init_pixel`` installs: excepthooks and the exit flush."""

import atexit
import sys
import threading
from types import TracebackType
from typing import Any, Callable, Optional, Type

from ..client import Client


class Hooks:
    """Chained ``sys.excepthook`` and ``threading.excepthook`` plus an atexit flush.

    Uncaught exceptions in the main thread become ``fatal`` events and those in
    other threads ``error`` events; the previous hooks still run, so the usual
    traceback prints and the exit code is unchanged. ``KeyboardInterrupt`` is
    not an error and is not reported. :meth:`remove` puts back what it replaced.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._active = True
        self._previous_sys = sys.excepthook
        self._previous_thread: Callable[[Any], Any] = threading.excepthook
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook
        atexit.register(self._at_exit)

    def _sys_hook(
        self,
        exc_type: Type[BaseException],
        exc: BaseException,
        tb: Optional[TracebackType],
    ) -> None:
        if self._active and not issubclass(exc_type, KeyboardInterrupt):
            self._client.capture_exception(exc, "fatal", tb=tb)
        self._previous_sys(exc_type, exc, tb)

    def _thread_hook(self, args: Any) -> None:
        exc_type = args.exc_type
        if self._active and exc_type is not None and not issubclass(exc_type, SystemExit):
            self._client.capture_exception(args.exc_value, "error", tb=args.exc_traceback)
        self._previous_thread(args)

    def _at_exit(self) -> None:
        self._client.worker.close_at_exit()

    def remove(self) -> None:
        """Restore the hooks this replaced, unless someone chained over them since."""
        self._active = False
        if sys.excepthook == self._sys_hook:
            sys.excepthook = self._previous_sys
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._previous_thread
        atexit.unregister(self._at_exit)
