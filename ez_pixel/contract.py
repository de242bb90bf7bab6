"""The ingest server's rules for an event, as constants and one validator.

The SDK trims every event to fit these limits before sending it, and the local
collector (``ez-pixel serve``) rejects what breaks them exactly as the hosted
server does. Keeping both on one module means they cannot drift apart.
"""

import re
from typing import Any, Dict, Optional, Tuple

from .types import WireEvent

#: Largest accepted request body, in characters of (ASCII-only) JSON text.
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

PROJECT_KEY_RE = re.compile(r"^pk_(live|test)_[A-Za-z0-9_-]{1,128}$")
FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9_:.@/-]{1,256}$")

#: Header that, when present, must equal the body's ``project_key``.
KEY_HEADER = "x-pixel-key"


def _bounded_str(value: Any, limit: int, *, non_empty: bool = False) -> bool:
    return isinstance(value, str) and len(value) <= limit and (bool(value) or not non_empty)


def validate_event(event: Any) -> Optional[str]:
    """Return the server's error text for a malformed event, or None when valid.

    The texts match the hosted server's 400 bodies (``"invalid <field>"``).
    Size, key-header and project checks are the caller's, as they need the
    request itself.
    """
    if not isinstance(event, dict):
        return "invalid json"
    checks: Dict[str, bool] = {
        "event_id": _bounded_str(event.get("event_id"), MAX_EVENT_ID_CHARS, non_empty=True),
        "project_key": isinstance(event.get("project_key"), str)
        and PROJECT_KEY_RE.match(event["project_key"]) is not None,
        "fingerprint": isinstance(event.get("fingerprint"), str)
        and FINGERPRINT_RE.match(event["fingerprint"]) is not None,
        "type": _bounded_str(event.get("type"), MAX_TYPE_CHARS),
        "message": _bounded_str(event.get("message"), MAX_MESSAGE_CHARS),
        "stack": isinstance(event.get("stack"), list),
        "code_context": event.get("code_context") is None
        or isinstance(event.get("code_context"), dict),
        "runtime": _bounded_str(event.get("runtime"), MAX_RUNTIME_CHARS),
        "manual_report": isinstance(event.get("manual_report"), bool),
        "level": event.get("level") in LEVELS,
        "occurred_at": _bounded_str(event.get("occurred_at"), MAX_OCCURRED_AT_CHARS),
    }
    for field, ok in checks.items():
        if not ok:
            return f"invalid {field}"
    return None
