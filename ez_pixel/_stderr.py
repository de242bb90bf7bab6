"""The SDK's own voice: one line on stderr, never through logging (no recursion)."""

import sys
import threading
from typing import Set

_said_once: Set[str] = set()
_lock = threading.Lock()


def say(message: str) -> None:
    """Write ``ez-pixel: <message>`` to stderr; never raises."""
    try:
        sys.stderr.write(f"ez-pixel: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass


def say_once(key: str, message: str) -> None:
    """:func:`say`, at most once per process for ``key``."""
    with _lock:  # two threads dropping errors at once still print one line
        if key in _said_once:
            return
        _said_once.add(key)
    say(message)
