"""Insert one element into a ``[...]`` or ``{...}`` literal without reformatting it.

Python and TOML share the shape of a bracketed, comma-separated list with
``#`` comments, so both editors find the element spans (with ``ast`` or the
TOML scanner) and let these functions do the textual part: keep the
indentation of the neighbouring elements, the trailing-comma habit, and every
comment. Anything unexpected between the last element and the closing
bracket (a parenthesis, a backslash) makes them return ``None``: the caller
then leaves the file alone and prints what to add by hand.
"""

import re
from typing import Optional, Sequence, Tuple

Span = Tuple[int, int]

_BETWEEN = re.compile(r"\s*(?:#[^\n]*\n\s*)*")


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index of the line break ending the line that holds ``index`` (before a ``\\r``)."""
    end = text.find("\n", index)
    if end == -1:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _indent_of(text: str, start: int) -> Tuple[str, bool]:
    """Leading whitespace of ``start``'s line, and whether ``start`` is the first thing on it."""
    begin = _line_start(text, start)
    prefix = text[begin:start]
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    return indent, not prefix.strip()


def _trailing_comma(text: str, start: int, end: int) -> Optional[Tuple[bool, int]]:
    """Between the last element and the bracket: ``(has_comma, comma_index)``, or None if odd."""
    between = text[start:end]
    match = _BETWEEN.match(between)
    pos = match.end() if match else 0
    if pos == len(between):
        return False, -1
    if between[pos] != ",":
        return None
    rest = between[pos + 1 :]
    match = _BETWEEN.match(rest)
    if (match.end() if match else 0) != len(rest):
        return None
    return True, start + pos


def append_element(
    text: str,
    open_index: int,
    close_index: int,
    elements: Sequence[Span],
    new: str,
    newline: str,
    step: str = "    ",
) -> Optional[str]:
    """``text`` with ``new`` added as the last element of the container, or None if unsafe.

    ``open_index``/``close_index`` are the brackets' indexes, ``elements`` the
    spans of the elements in order, ``step`` the indentation added inside an
    empty multi-line container.
    """
    if not elements:
        inner = text[open_index + 1 : close_index]
        if not inner.strip():
            if "\n" not in inner:
                return text[: open_index + 1] + new + text[close_index:]
            indent, _ = _indent_of(text, open_index)
            head = text[: open_index + 1]
            return head + newline + indent + step + new + "," + text[open_index + 1 :]
        return None
    last_end = elements[-1][1]
    comma = _trailing_comma(text, last_end, close_index)
    if comma is None:
        return None
    has_comma, comma_index = comma
    if "\n" not in text[last_end:close_index]:
        if has_comma:
            space = "" if text[close_index - 1].isspace() else " "
            return text[:close_index] + space + new + "," + text[close_index:]
        return text[:last_end] + ", " + new + text[last_end:]
    indent, _ = _indent_of(text, elements[-1][0])
    if has_comma:
        at = _line_end(text, comma_index)
        if at >= close_index:
            return None
        return text[:at] + newline + indent + new + "," + text[at:]
    at = _line_end(text, last_end)
    if at >= close_index:
        return None
    return text[:last_end] + "," + text[last_end:at] + newline + indent + new + text[at:]


def insert_before(text: str, element: Span, new: str, newline: str) -> str:
    """``text`` with ``new`` inserted as the element just before ``element``."""
    start = element[0]
    indent, alone = _indent_of(text, start)
    if alone:
        begin = _line_start(text, start)
        return text[:begin] + indent + new + "," + newline + text[begin:]
    return text[:start] + new + ", " + text[start:]


def quote_char(text: str, spans: Sequence[Span], default: str = '"') -> str:
    """The quote the first quoted string among ``spans`` uses (``'`` or ``"``), else ``default``."""
    for start, _ in spans:
        char = text[start : start + 1]
        if char in ("'", '"'):
            return char
    return default


def quoted(value: str, quote: str) -> str:
    """``value`` (plain text: no quotes, no backslashes) in ``quote`` quotes."""
    return f"{quote}{value}{quote}"
