"""ez-pixel: logging-first error tracking for Python.

Every error (an uncaught exception in any thread, ``logger.exception(...)``, a
structlog error, a ``report_pixel(...)`` call) becomes one small JSON event
with a portable stack, the failing source lines and a stable fingerprint,
delivered from a background thread that never blocks or breaks the app.

Quick start::

    import ez_pixel
    ez_pixel.init_pixel("pk_test_abc123", "http://127.0.0.1:8765/ingest")
"""

from ._version import __version__
from .api import close_pixel, flush_pixel, ignore_logger, init_pixel, report_pixel, stats
from .client import Client
from .handler import PixelHandler

#: Wire-format names kept for code written against 0.1.0, loaded on first use.
_TYPES = ("CodeContext", "Level", "ReportInput", "StackFrame", "WireEvent")


def __getattr__(name: str) -> object:
    if name in _TYPES:
        from . import types

        return getattr(types, name)
    raise AttributeError(f"module 'ez_pixel' has no attribute {name!r}")


__all__ = [
    "Client",
    "CodeContext",
    "Level",
    "PixelHandler",
    "ReportInput",
    "StackFrame",
    "WireEvent",
    "__version__",
    "close_pixel",
    "flush_pixel",
    "ignore_logger",
    "init_pixel",
    "report_pixel",
    "stats",
]
