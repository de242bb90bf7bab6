"""The ingest server's rules for an event, as constants and one validator.

The SDK trims every event to fit these limits before sending it, and the local
collector (``ez-pixel serve``) rejects what breaks them exactly as the hosted
server does. Keeping both on one module means they cannot drift apart.
"""

import re
from typing import Any, Optional, Tuple

from .types import WireEvent

#: Largest accepted request body, in UTF-16 code units of decoded text.
#: Every length here is counted as JavaScript counts it (an emoji is 2).
MAX_BODY_CHARS = 65_536
MAX_EVENT_ID_CHARS = 128
MAX_TYPE_CHARS = 256
MAX_MESSAGE_CHARS = 4_096
MAX_RUNTIME_CHARS = 64
MAX_OCCURRED_AT_CHARS = 64

#: The fields every event has, in wire order (the ``WireEvent`` type names them
#: once); the server ignores any others (still counted in the cap).
FIELDS: Tuple[str, ...] = tuple(WireEvent.__annotations__)

#: Levels the server accepts; anything else is a 400.
LEVELS = ("error", "warning", "fatal")

# ``\Z``, not ``$``: JavaScript's ``$`` does not accept a trailing newline, Python's does.
PROJECT_KEY_RE = re.compile(r"^pk_(live|test)_[A-Za-z0-9_-]{1,128}\Z")
FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9_:.@/-]{1,256}\Z")

#: Header that, when present and not empty, must equal the body's ``project_key``.
KEY_HEADER = "x-pixel-key"

#: Distinct fingerprints a project may hold before new ones are answered 429.
FINGERPRINT_CAP = 10_000


def utf16_len(text: str) -> int:
    """Length of ``text`` as JavaScript counts it: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _string_within(value: Any, limit: int) -> bool:
    return isinstance(value, str) and utf16_len(value) <= limit


def _field(event: Any, name: str) -> Any:
    """``event.name`` as JavaScript reads it: absent on anything but an object."""
    return event.get(name) if isinstance(event, dict) else None


def validate_event(event: Any) -> Optional[str]:
    """Return the server's 400 text for a malformed event, or None when valid.

    The checks, their order and their texts are the hosted server's
    (``validateWireEvent``): ``stack`` and ``code_context`` are not checked,
    lengths are UTF-16 code units. The body cap, the key header and the
    project are the caller's, as they need the request itself.
    """
    if not isinstance(event, (dict, list)):
        return "invalid body"  # JSON null, a string, a number or a boolean
    event_id = _field(event, "event_id")
    if not isinstance(event_id, str) or not event_id:
        return "invalid event_id"
    if utf16_len(event_id) > MAX_EVENT_ID_CHARS:
        return "event_id too long"
    for name, pattern in (("project_key", PROJECT_KEY_RE), ("fingerprint", FINGERPRINT_RE)):
        value = _field(event, name)
        if not isinstance(value, str) or pattern.match(value) is None:
            return f"invalid {name}"
    for name, limit in (
        ("type", MAX_TYPE_CHARS),
        ("message", MAX_MESSAGE_CHARS),
        ("runtime", MAX_RUNTIME_CHARS),
    ):
        if not _string_within(_field(event, name), limit):
            return f"invalid {name}"
    if not isinstance(_field(event, "manual_report"), bool):
        return "invalid manual_report"
    level = _field(event, "level")
    if not isinstance(level, str) or level not in LEVELS:
        return "invalid level"
    if not _string_within(_field(event, "occurred_at"), MAX_OCCURRED_AT_CHARS):
        return "invalid occurred_at"
    return None
