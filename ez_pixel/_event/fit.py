"""Fitting an event to the server's body cap, and encoding it.

The body is ASCII JSON (so characters and UTF-16 code units agree, as the
server counts them); when it is too large, what matters least goes first.
"""

import json
from typing import Any, Dict

from .._text import cut
from ..contract import FIELDS, MAX_BODY_CHARS

Event = Dict[str, Any]

#: Stack shape once trimmed to fit the body cap: innermost frames matter most.
_FIT_INNER = 20
_FIT_OUTER = 5


def omitted_frame(count: int) -> Dict[str, Any]:
    """The placeholder frame standing for ``count`` frames cut from the middle of a stack."""
    return {"file": f"<{count} frames omitted>", "line": 0, "col": 0, "fn": "", "in_app": False}


def _dumps(event: Event) -> str:
    return json.dumps(event, ensure_ascii=True, separators=(",", ":"), default=str)


def encode(event: Event) -> bytes:
    """The event as ASCII JSON within the body cap, trimming what matters least first.

    Order: extra fields, the middle of the stack, the code context's width,
    the code context, the message, then all but the innermost frames.
    """
    body = _dumps(event)
    if len(body) <= MAX_BODY_CHARS:
        return body.encode("ascii")
    for trim in _TRIMS:
        trim(event)
        body = _dumps(event)
        if len(body) <= MAX_BODY_CHARS:
            return body.encode("ascii")
    raise ValueError("event does not fit the body cap")  # unreachable with bounded fields


def _drop_extras(event: Event) -> None:
    for key in [k for k in event if k not in _WIRE_FIELDS]:
        del event[key]


def _trim_stack_middle(event: Event) -> None:
    stack = event["stack"]
    if len(stack) > _FIT_INNER + _FIT_OUTER + 1:
        cut = len(stack) - _FIT_INNER - _FIT_OUTER
        event["stack"] = stack[:_FIT_INNER] + [omitted_frame(cut)] + stack[-_FIT_OUTER:]


def _narrow_context(event: Event) -> None:
    """Two lines each side of the failing one, still centred as the agent numbers them."""
    context = event.get("code_context")
    lines = context.get("lines") if isinstance(context, dict) else None
    if isinstance(context, dict) and isinstance(lines, list):
        error_index = (len(lines) - 1) // 2  # where the agent reads the failing line
        keep = min(2, error_index)
        lo = error_index - keep
        context["lines"] = [str(line)[:120] for line in lines[lo : error_index + keep + 1]]
        if isinstance(context.get("error_line"), int):
            context["start_line"] = context["error_line"] - keep


def _drop_context(event: Event) -> None:
    event["code_context"] = None


def _shorten_message(event: Event) -> None:
    event["message"] = cut(event["message"], 1024)


def _innermost_only(event: Event) -> None:
    event["stack"] = event["stack"][:5]
    for frame in event["stack"]:
        frame["file"] = frame["file"][:200]
        frame["fn"] = frame["fn"][:200]


_TRIMS = (
    _drop_extras,
    _trim_stack_middle,
    _narrow_context,
    _drop_context,
    _shorten_message,
    _innermost_only,
)
_WIRE_FIELDS = frozenset(FIELDS)
