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

from ._version import __version__

# The public names are loaded on first use (PEP 562), so ``import ez_pixel``
# costs almost nothing until the app calls into it: a library can import it
# at the top of every module. Type checkers see the real imports below.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ._environ import DEFAULT_INGEST_URL
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
    from .types import CodeContext, Level, ReportInput, StackFrame, WireEvent

#: Public name -> the submodule that defines it. The wire-format names are
#: kept for code written against 0.1.0.
_HOME = {
    "DEFAULT_INGEST_URL": "_environ",
    "Client": "client",
    "CodeContext": "types",
    "Level": "types",
    "PixelClient": "client",
    "PixelHandler": "handler",
    "ReportInput": "types",
    "StackFrame": "types",
    "WireEvent": "types",
    "capture_exception": "api",
    "close_pixel": "api",
    "flush": "api",
    "flush_pixel": "api",
    "ignore_logger": "api",
    "init_pixel": "api",
    "report": "api",
    "report_pixel": "api",
    "stats": "api",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'ez_pixel' has no attribute {name!r}")
    module = __import__(f"{__name__}.{home}", fromlist=[name])
    value = getattr(module, name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(_HOME))


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
