"""The module-level API: ``init_pixel``, ``report_pixel``, ``flush_pixel``, ``close_pixel``,
``stats`` and ``ignore_logger``."""

import sys
import threading
from typing import Any, Dict, Optional

from ._capture import records
from ._process.hooks import Hooks
from ._process.integrations import Integrations
from ._process.rootlog import RootAttachment
from ._text import text_of
from .client import Client, active_client, current_client, set_active
from .contract import LEVELS
from .options import make_options

_lock = threading.Lock()
_hooks: Optional[Hooks] = None
_root: Optional[RootAttachment] = None
_integrations: Optional[Integrations] = None


def init_pixel(
    project_key: Optional[str] = None,
    ingest_url: Optional[str] = None,
    *,
    runtime: Optional[str] = None,
    **options: Any,
) -> Client:
    """Start reporting: returns the client.

    Missing arguments come from ``PIXEL_PROJECT_KEY`` and ``PIXEL_INGEST_URL``.
    Installs a chained ``sys.excepthook`` (uncaught errors are ``fatal``) and
    ``threading.excepthook`` (``error``), an exit flush bounded by
    ``shutdown_timeout``, and a :class:`PixelHandler` on the root logger at
    ERROR unless one is there already (without changing what the app prints:
    see :mod:`ez_pixel._process.rootlog`). Nothing touches the network until the first
    error.

    Raises ``ValueError`` for a malformed key or URL, ``TypeError`` for an
    unknown option, and ``RuntimeError`` when already initialised (call
    :func:`close_pixel` first).
    """
    global _hooks, _root, _integrations
    with _lock:
        if active_client() is not None:
            raise RuntimeError("ez-pixel is already initialized; call close_pixel() first")
        client = Client(make_options(project_key, ingest_url, runtime=runtime, **options))
        client.start()
        _hooks = Hooks(client)
        _root = RootAttachment()
        _integrations = Integrations(_root.handler)
        set_active(client)
        return client


def report_pixel(
    message: str, error: Optional[BaseException] = None, level: str = "error"
) -> Optional[str]:
    """Report an error by hand; returns the event id, or None if nothing was queued.

    With ``error`` the event carries that exception's type and traceback (or,
    for an exception never raised, the stack of this call) and ``message``
    alongside its text. ``level`` is ``"error"``, ``"warning"`` or ``"fatal"``;
    anything else raises ``ValueError``.
    """
    if not isinstance(level, str) or level not in LEVELS:
        shown = text_of(level, 50)
        raise ValueError(f"ez-pixel: level must be one of {', '.join(LEVELS)}, not {shown!r}")
    client = current_client()
    if client is None:
        return None
    call_site = sys._getframe(1)
    if error is not None:
        return client.capture_exception(
            error, level, message=message, manual=True, call_site=call_site
        )
    return client.capture_message(
        message, level, call_site=call_site, group=text_of(message, 200), manual=True
    )


def flush_pixel(timeout: Optional[float] = None) -> bool:
    """Block until every queued and in-flight event is delivered or dropped.

    Returns True when nothing is left, False when ``timeout`` seconds passed first.
    """
    client = current_client()
    return True if client is None else client.flush(timeout)


def close_pixel(timeout: Optional[float] = None) -> None:
    """Flush (up to ``timeout``, default the shutdown timeout), then undo ``init_pixel``.

    Restores the hooks it replaced, detaches its handler and stops the worker.
    Idempotent, and harmless without ``init_pixel``.
    """
    global _hooks, _root, _integrations
    with _lock:
        client = active_client()
        if client is None:
            return
        set_active(None)
        if _hooks is not None:
            _hooks.remove()
            _hooks = None
        if _root is not None:
            _root.remove()
            _root = None
        if _integrations is not None:
            _integrations.remove()
            _integrations = None
        client.close(timeout)


def stats() -> Dict[str, object]:
    """Delivery counters of the current client (empty without one).

    ``queued``, ``sent``, ``retried``, ``dropped`` (a dict by reason),
    ``internal_errors`` and ``pending``.
    """
    client = current_client()
    return client.stats() if client is not None else {}


def ignore_logger(name: str) -> None:
    """Never report records of the logger called exactly ``name``, nor of its children.

    ``ignore_logger("noisy.lib")`` silences ``noisy.lib`` and ``noisy.lib.http``
    but not ``noisy.library`` or ``noisy``: names match exactly, never as a
    prefix. It applies to every :class:`~ez_pixel.PixelHandler` and
    :class:`~ez_pixel.structlog.PixelProcessor` in the process, from the next
    record on, and lasts for the life of the process. ez-pixel's own loggers
    (``ez_pixel``) and ``urllib3`` are always ignored.
    """
    records.ignore_logger(name)
