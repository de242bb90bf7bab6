"""ez-pixel: logging-first error tracking for Python.

Every error (an uncaught exception in any thread, ``logger.exception(...)``, a
structlog error, a ``report_pixel(...)`` call) becomes one small JSON event
with a portable stack, the failing source lines and a stable fingerprint,
delivered from a background thread that never blocks or breaks the app.

Quick start::

    import ez_pixel
    ez_pixel.init_pixel("pk_test_abc123", "http://127.0.0.1:8765/ingest")

The names of ez-pixel 0.1.0 (``report_pixel``, ``flush_pixel``) and of the
ecosystem's SDK (``report``, ``capture_exception``, ``flush``,
``PixelClient``, ``DEFAULT_INGEST_URL``) all work: see docs/compatibility.md.
"""

from ._environ import DEFAULT_INGEST_URL
from ._version import __version__
from .api import (
    capture_exception,
    close_pixel,
    flush,
    flush_pixel,
    ignore_logger,
    init_pixel,
    report,
    report_pixel,
    stats,
)
from .client import Client, PixelClient
from .handler import PixelHandler

#: Wire-format names kept for code written against 0.1.0, loaded on first use.
_TYPES = ("CodeContext", "Level", "ReportInput", "StackFrame", "WireEvent")


def __getattr__(name: str) -> object:
    if name in _TYPES:
        from . import types

        return getattr(types, name)
    raise AttributeError(f"module 'ez_pixel' has no attribute {name!r}")


__all__ = [
    "DEFAULT_INGEST_URL",
    "Client",
    "CodeContext",
    "Level",
    "PixelClient",
    "PixelHandler",
    "ReportInput",
    "StackFrame",
    "WireEvent",
    "__version__",
    "capture_exception",
    "close_pixel",
    "flush",
    "flush_pixel",
    "ignore_logger",
    "init_pixel",
    "report",
    "report_pixel",
    "stats",
]
