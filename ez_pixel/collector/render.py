"""Plain-text rendering of error groups for terminals and coding agents.

A group is a row of the management API (``stack`` and ``code_context`` are
JSON text there, times are milliseconds). Everything shown came from an
event, so from an untrusted program: every string passes through
:func:`clean`, which makes control characters visible instead of letting them
reach the terminal.
"""

import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

# C0/C1 controls, DEL, line/paragraph separators and bidi overrides ("Trojan source").
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_EXCEPT_NEWLINE_RE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

TABLE_COLUMNS = ("ID", "STATUS", "TYPE", "MESSAGE", "LOCATION", "COUNT", "LAST SEEN (UTC)")
#: Characters of an ``err_<32 hex>`` id shown in tables; commands accept such a prefix.
SHORT_ID = 12
_TYPE_WIDTH = 32
_MESSAGE_WIDTH = 60
_LOCATION_WIDTH = 40


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: "re.Match[str]") -> str:
    """Return the visible escape for one control character."""
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: Any, *, keep_newlines: bool = False) -> str:
    """Return ``value`` as text with control characters escaped (``\\x1b``)."""
    text = value if isinstance(value, str) else str(value)
    pattern = _CONTROL_EXCEPT_NEWLINE_RE if keep_newlines else _CONTROL_RE
    return pattern.sub(_escape_char, text)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, marking the cut with ``...``."""
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def truncate_left(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters keeping its end (the file name of a path)."""
    return text if len(text) <= width else "..." + text[len(text) - width + 3 :]


def one_line(value: Any, width: int) -> str:
    """Return ``value`` cleaned, on one line, and at most ``width`` characters."""
    return truncate(clean(value), width)


def innermost_frame(stack: Any) -> Optional[Dict[str, Any]]:
    """Return the first in-app frame of an innermost-first stack, else its first frame."""
    frames = (
        [frame for frame in stack if isinstance(frame, dict)] if isinstance(stack, list) else []
    )
    for frame in frames:
        if frame.get("in_app") is True:
            return frame
    return frames[0] if frames else None


def frame_location(frame: Optional[Dict[str, Any]]) -> str:
    """Return ``file:line`` for a frame (``?`` for what is missing)."""
    if frame is None:
        return "?"
    file = frame.get("file")
    line = frame.get("line")
    where = clean(file) if file not in (None, "") else "?"
    return f"{where}:{clean(line)}" if line is not None else where


def parsed(value: Any) -> Any:
    """A stored ``stack``/``code_context`` (JSON text) as a value; None when unreadable."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def group_location(group: Dict[str, Any]) -> str:
    """Return ``file:line`` of the innermost in-app frame of a group or event."""
    return frame_location(innermost_frame(parsed(group.get("stack"))))


def short_id(value: Any) -> str:
    """The first :data:`SHORT_ID` characters of an id."""
    return clean(value)[:SHORT_ID]


def short_time(timestamp: Any) -> str:
    """Return milliseconds since the epoch as ``YYYY-MM-DD HH:MM:SS`` UTC."""
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        try:
            moment = datetime.fromtimestamp(timestamp / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return clean(timestamp)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return clean(timestamp) if timestamp is not None else ""


def _table_row(group: Dict[str, Any]) -> List[str]:
    """Return the cells of one group in :data:`TABLE_COLUMNS` order."""
    return [
        short_id(group.get("id", "?")),
        one_line(group.get("status", "?"), 16),
        one_line(group.get("type") or "Error", _TYPE_WIDTH),
        one_line((group.get("message") or "").strip(), _MESSAGE_WIDTH),
        truncate_left(group_location(group), _LOCATION_WIDTH),
        str(group.get("occurrences", "?")),
        short_time(group.get("last_seen_at", "")),
    ]


def render_table(groups: Sequence[Dict[str, Any]]) -> str:
    """Render groups as an aligned table, one line each, as ``ez-pixel errors`` prints."""
    if not groups:
        return "No errors recorded."
    rows = [list(TABLE_COLUMNS)] + [_table_row(group) for group in groups]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i == 5 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _as_int(value: Any) -> Optional[int]:
    """Return ``value`` if it is a real int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def code_context_start(code_context: Dict[str, Any], count: int) -> Optional[int]:
    """Return the line number of ``lines[0]``: ``start_line``, else centred on ``error_line``.

    Centred is how the ezcoder fix agent numbers the window.
    """
    start = _as_int(code_context.get("start_line"))
    if start is not None:
        return start
    error_line = _as_int(code_context.get("error_line"))
    return None if error_line is None else error_line - (count - 1) // 2


def render_code_context(code_context: Any) -> List[str]:
    """Render a code context as numbered lines, the failing one marked with ``>``."""
    code_context = parsed(code_context)
    if not isinstance(code_context, dict) or not isinstance(code_context.get("lines"), list):
        return []
    lines = code_context["lines"]
    start = code_context_start(code_context, len(lines))
    error_line = _as_int(code_context.get("error_line"))
    numbers = [str(start + i) if start is not None else "" for i in range(len(lines))]
    width = max((len(n) for n in numbers), default=0)
    out = []
    for i, line in enumerate(lines):
        marker = ">" if start is not None and start + i == error_line else " "
        text = line.expandtabs(4) if isinstance(line, str) else line
        out.append(f"{marker} {numbers[i].rjust(width)} | {clean(text).rstrip()}")
    return out


def render_frame(frame: Any) -> str:
    """Render one stack frame as ``file:line in fn``, library frames marked."""
    if not isinstance(frame, dict):
        return clean(frame)
    text = frame_location(frame)
    if frame.get("fn") not in (None, ""):
        text += f" in {clean(frame['fn'])}"
    return text if frame.get("in_app") is True else text + "  [library]"


def _render_details(group: Dict[str, Any]) -> List[str]:
    """Render the bookkeeping fields of a group, one ``name: value`` per line."""
    recurrences = group.get("recurrence_count") or 0
    status = clean(group.get("status", "?"))
    if recurrences:
        status += f" (came back {recurrences} time(s) after a merged fix)"
    fields = [
        ("id", group.get("id")),
        ("status", status),
        ("occurrences", group.get("occurrences")),
        ("first seen", short_time(group.get("first_seen_at")) + " UTC"),
        ("last seen", short_time(group.get("last_seen_at")) + " UTC"),
        ("fingerprint", group.get("fingerprint")),
        ("runtime", group.get("runtime")),
        ("last event", group.get("last_event_id")),
        ("branch", group.get("branch")),
        ("fixed at", short_time(group["fixed_at"]) if group.get("fixed_at") else None),
        ("merged at", short_time(group["merged_at"]) if group.get("merged_at") else None),
    ]
    return [f"  {name + ':':<13}{clean(value)}" for name, value in fields if value is not None]


def render_group(group: Dict[str, Any]) -> str:
    """Render one group for a coding agent: headline, location, code, stack, details."""
    message = clean(group.get("message") or "", keep_newlines=True)
    out = [f"{clean(group.get('type') or 'Error')}: {message}", f"  at {group_location(group)}"]
    code = render_code_context(group.get("code_context"))
    if code:
        file = parsed(group.get("code_context")).get("file")
        out += ["", f"Code ({clean(file)}):" if file else "Code:", *code]
    stack = parsed(group.get("stack"))
    if isinstance(stack, list) and stack:
        out += ["", "Stack (innermost first):", *("  " + render_frame(f) for f in stack)]
    out += ["", "Details:", *_render_details(group)]
    return "\n".join(out)


def render_echo_line(
    clock: str, event: Dict[str, Any], status: int, answer: Dict[str, Any], occurrences: Any
) -> str:
    """Render the one-line ``serve`` log entry for an event that was answered."""
    if status != 200:
        return f"{clock}  rejected {status}: {clean(answer.get('error', ''))}"
    if answer.get("duplicate"):
        note = "duplicate, ignored"
    elif answer.get("created"):
        note = "new"
    else:
        note = f"x{occurrences}" + (", recurred" if answer.get("recurred") else "")
    headline = one_line(f"{event.get('type', '')}: {event.get('message', '')}", 100)
    level = one_line(event.get("level", "?"), 7).ljust(7)
    where = group_location(event)
    return f"{clock}  {level} {short_id(answer.get('error_id'))}  {headline}  at {where}  ({note})"
