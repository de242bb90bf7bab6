"""The module-level API: ``init_pixel``, ``report_pixel``, ``flush_pixel``, ``close_pixel``,
``stats`` and ``ignore_logger``, plus the names the ecosystem's SDK (``packages/pixel-py``)
uses for the same things: ``report``, ``capture_exception``, ``flush``.

Each name has one implementation; the ecosystem's names are thin wrappers.
"""

import re
import sys
import threading
from typing import Any, Dict, Optional, Tuple

from ._capture import records
from ._process.hooks import Hooks
from ._process.integrations import Integrations
from ._process.rootlog import RootAttachment
from ._stderr import say_once
from ._switches import Switches
from .client import Client, active_client, check_level, client_or_warn, current_client, set_active
from .options import Options, make_options, mask_key

_lock = threading.Lock()
_hooks: Optional[Hooks] = None
_root: Optional[RootAttachment] = None
_integrations: Optional[Integrations] = None
_switches: Optional[Switches] = None
#: What the active client was made with: its options and the three ``capture_*`` switches.
_configuration: Optional[Tuple[Options, Tuple[bool, bool, bool]]] = None


def _same(before: Any, after: Any) -> bool:
    # A factory's ``before_send=lambda event: ...`` is a new function object on
    # every call, made from the same code: that is the same configuration.
    return bool(before == after) or getattr(before, "__code__", before) is getattr(
        after, "__code__", after
    )


def _no_userinfo(url: Optional[str]) -> Optional[str]:
    return re.sub(r"//[^/@]*@", "//…@", url) if url else url


def _differences(old: Options, new: Options) -> str:
    changed = []
    for name in Options._fields:
        before, after = getattr(old, name), getattr(new, name)
        if not _same(before, after):
            if name == "project_key":
                before, after = mask_key(before), mask_key(after)
            elif name in ("ingest_url", "proxy_url"):  # never show a URL's password
                before, after = _no_userinfo(before), _no_userinfo(after)
            changed.append(f"{name}: {before!r} -> {after!r}")
    return "; ".join(changed)


def _same_or_raise(options: Options, flags: Tuple[bool, bool, bool], root_given: bool) -> Client:
    client = active_client()
    assert client is not None and _configuration is not None
    first, first_flags = _configuration
    if not root_given:  # the working directory may have changed since (tests chdir)
        options = options._replace(project_root=first.project_root)
    changed = _differences(first, options)
    names = ("capture_uncaught", "capture_unhandled_rejections", "capture_logging_errors")
    for name, before, after in zip(names, first_flags, flags):
        if before != after:
            changed = "; ".join(filter(None, [changed, f"{name}: {before!r} -> {after!r}"]))
    if changed:
        raise RuntimeError(
            "ez-pixel is already initialized with a different configuration "
            f"({changed}); call close_pixel() first to change it"
        )
    return client


def init_pixel(
    project_key: Optional[str] = None,
    ingest_url: Optional[str] = None,
    *,
    runtime: Optional[str] = None,
    capture_uncaught: bool = True,
    capture_unhandled_rejections: bool = True,
    capture_logging_errors: bool = True,
    **options: Any,
) -> Client:
    """Start reporting: returns the client (a :data:`~ez_pixel.PixelClient`).

    The key comes from ``project_key``, else ``PIXEL_PROJECT_KEY``, else
    ``EZCODER_PIXEL_KEY``, else the project's ``.env``; the URL from
    ``ingest_url``, else ``PIXEL_INGEST_URL`` (environment, then ``.env``),
    else :data:`~ez_pixel.DEFAULT_INGEST_URL`.

    Installs a chained ``sys.excepthook`` (uncaught errors are ``fatal``) and
    ``threading.excepthook`` (``error``) unless ``capture_uncaught=False``, an
    exit flush bounded by ``shutdown_timeout``, and a :class:`PixelHandler`
    on the root logger at ERROR unless ``capture_logging_errors=False`` or
    one is there already (without changing what the app prints: see
    :mod:`ez_pixel._process.rootlog`). ``capture_unhandled_rejections=False``
    stops asyncio's reports of failed tasks and callbacks. Nothing touches
    the network until the first error.

    Called again with the same configuration, it returns the same client
    and changes nothing (app factories and test suites call it many times).
    Raises ``RuntimeError`` naming the differences when called again with a
    different one (call :func:`close_pixel` first), ``ValueError`` for a
    malformed key or URL, and ``TypeError`` for an unknown option.
    """
    global _hooks, _root, _integrations, _switches, _configuration
    flags = (
        bool(capture_uncaught),
        bool(capture_unhandled_rejections),
        bool(capture_logging_errors),
    )
    with _lock:
        made = make_options(project_key, ingest_url, runtime=runtime, **options)
        if active_client() is not None:
            return _same_or_raise(made, flags, "project_root" in options)
        client = Client(made)
        client.start()
        if capture_uncaught:
            _hooks = Hooks(client)
        if capture_logging_errors:
            _root = RootAttachment()
            _integrations = Integrations(_root.handler)
        _switches = Switches(
            client,
            exit_flush=not capture_uncaught,
            asyncio_errors=bool(capture_unhandled_rejections),
            root_handler=_root.handler if _root is not None else None,
        )
        if not capture_logging_errors:
            say_once(
                "capture_logging_errors",
                "capture_logging_errors=False: errors logged through logging (logger.exception, "
                "a framework's failed requests and tasks) are not reported; uncaught exceptions "
                "and report()/capture_exception() still are",
            )
        _configuration = (made, flags)
        set_active(client)
        return client


def report_pixel(message: Any, error: Any = None, level: str = "error") -> Optional[str]:
    """Report by hand; returns the event id, or None if nothing was queued.

    With an exception as ``error`` the event carries its type and traceback
    (or, for an exception never raised, the stack of this call) and
    ``message`` alongside its text. Any other ``error`` (``"oops"``) is text:
    the event is a ``ManualReport`` whose message is ``"<message>: <error>"``.
    ``level`` is ``"error"``, ``"warning"`` or ``"fatal"``; anything else
    raises ``ValueError``. Without a configured client the report is dropped,
    and stderr says so once per process.
    """
    check_level(level)
    client = client_or_warn()
    if client is None:
        return None
    return client.report(message, error, level, call_site=sys._getframe(1))


def report(message: Any, *, error: Any = None, level: str = "error") -> Optional[str]:
    """:func:`report_pixel` as the ecosystem's SDK names it (``error``, ``level`` by keyword)."""
    check_level(level)
    client = client_or_warn()
    if client is None:
        return None
    return client.report(message, error, level, call_site=sys._getframe(1))


def capture_exception(exc: Any, *, level: str = "error") -> Optional[str]:
    """Report a caught exception by hand (``manual_report: true``); returns the event id.

    The ecosystem SDK's call: ``except Exception as e: capture_exception(e)``.
    The event has the exception's type, message and traceback; it is the
    same as ``report_pixel("", error=exc, level=level)``. An exception
    already reported (say, logged with ``logger.exception``) is not sent
    twice.
    """
    check_level(level)
    client = client_or_warn()
    if client is None:
        return None
    return client.report("", exc, level, call_site=sys._getframe(1))


def flush_pixel(timeout: Optional[float] = None, *, timeout_s: Optional[float] = None) -> bool:
    """Block until every queued and in-flight event is delivered or dropped.

    Returns True when nothing is left, False when ``timeout`` seconds
    (``timeout_s``, the ecosystem SDK's name) passed first.
    """
    client = current_client()
    if client is None:
        return True
    return client.flush(timeout if timeout is not None else timeout_s)


def flush(timeout_s: float = 5.0) -> bool:
    """:func:`flush_pixel`, as the ecosystem's SDK names it: waits at most ``timeout_s`` (5 s)."""
    return flush_pixel(timeout_s)


def close_pixel(timeout: Optional[float] = None, *, timeout_s: Optional[float] = None) -> None:
    """Flush (up to ``timeout``, default the shutdown timeout), then undo ``init_pixel``.

    ``timeout_s`` is the ecosystem SDK's name for ``timeout``. Restores the
    hooks it replaced, detaches its handler and stops the worker.
    Idempotent, and harmless without ``init_pixel``.
    """
    global _hooks, _root, _integrations, _switches, _configuration
    with _lock:
        client = active_client()
        if client is None:
            return
        set_active(None)
        _configuration = None
        for installed in (_hooks, _root, _integrations, _switches):
            if installed is not None:
                installed.remove()
        _hooks = _root = _integrations = _switches = None
        client.close(timeout if timeout is not None else timeout_s)


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
