"""Noticing that the application, or its framework, has just configured logging.

``logging.config.dictConfig`` with a ``root`` entry, ``fileConfig`` and
``basicConfig(force=True)`` take every handler off the root logger, ours
included; Django runs ``dictConfig`` in ``django.setup()``, uvicorn and
gunicorn when they start. The standard library says nothing when that
happens, so ez-pixel listens at the end of the configuration calls
themselves, where it costs nothing per log call:

- ``logging.config.DictConfigurator.configure``, the method every
  ``dictConfig`` call runs, even through a ``from logging.config import
  dictConfig`` made before ``init_pixel`` (gunicorn's, a Flask app's);
- ``logging.config._install_loggers``, the last step of every ``fileConfig``
  call, for the same reason (present in every CPython this supports; if a
  future one drops it, ``fileConfig`` is simply not watched);
- ``logging.basicConfig`` has its own shim in :mod:`.rootlog`.

The alternatives were worse: a check on each log record costs every log call;
wrapping ``Logger.removeHandler`` fires in the middle of a configuration,
before the application's own handlers are in place, and misses
``root.handlers = []``. Listeners run after the configuration call returns
(or fails: a half-done configuration may already have removed our handler),
each swallowing its own failures. Code that empties ``root.handlers`` by hand
is not seen; Celery's worker, which does, is handled by its signals instead.
"""

import logging.config
import threading
from typing import Any, Callable, List, Optional

from .._guard import swallowed

Listener = Callable[[], None]

_lock = threading.Lock()
_listeners: List[Listener] = []
_original_configure: Optional[Callable[..., Any]] = None
_original_install_loggers: Optional[Callable[..., Any]] = None


def _notify() -> None:
    for listener in list(_listeners):
        with swallowed:
            listener()


def _configure(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``DictConfigurator.configure``, then tell the listeners."""
    assert _original_configure is not None
    try:
        return _original_configure(self, *args, **kwargs)
    finally:
        _notify()


def _install_loggers(*args: Any, **kwargs: Any) -> Any:
    """``fileConfig``'s last step, then tell the listeners."""
    assert _original_install_loggers is not None
    try:
        return _original_install_loggers(*args, **kwargs)
    finally:
        _notify()


def _wrap() -> None:
    global _original_configure, _original_install_loggers
    if logging.config.DictConfigurator.configure is not _configure:
        _original_configure = logging.config.DictConfigurator.configure
        logging.config.DictConfigurator.configure = _configure  # type: ignore[method-assign]
    install = getattr(logging.config, "_install_loggers", None)
    if callable(install) and install is not _install_loggers:
        _original_install_loggers = install
        logging.config._install_loggers = _install_loggers  # type: ignore[attr-defined]


def _unwrap() -> None:
    # Someone who wrapped over us keeps calling us: the originals stay known.
    if _original_configure is not None and logging.config.DictConfigurator.configure is _configure:
        logging.config.DictConfigurator.configure = _original_configure  # type: ignore[method-assign]
    if (
        _original_install_loggers is not None
        and getattr(logging.config, "_install_loggers", None) is _install_loggers
    ):
        logging.config._install_loggers = _original_install_loggers  # type: ignore[attr-defined]


def watch(listener: Listener) -> None:
    """Call ``listener()`` after every ``dictConfig`` and ``fileConfig`` from now on."""
    with _lock:
        if not _listeners:
            _wrap()
        _listeners.append(listener)


def unwatch(listener: Listener) -> None:
    """Stop calling ``listener``; the last one out puts the standard library back."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)
            if not _listeners:
                _unwrap()
