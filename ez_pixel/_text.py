"""Text the SDK takes from the app, made safe to keep and to send: one helper.

Anything the app hands us (an exception's ``str``, a bound value, a source
line) may raise when printed, be megabytes long, or hold lone surrogates that
a JSON body cannot carry. :func:`text_of` turns any value into text without
raising and :func:`cut` bounds text and makes it encodable, so that every
field of an event is cut the same way in one place.
"""

from typing import Any, Callable, Optional

#: The mark that ends text cut short (one UTF-16 code unit).
ELLIPSIS = "…"
#: What a lone surrogate becomes. The hosted server accepts one (JSON.parse
#: keeps it) but stores text: it comes back as three U+FFFD. One is honest.
REPLACEMENT = "\ufffd"


def units(text: str) -> int:
    """``text``'s length as JavaScript counts it: UTF-16 code units (an emoji counts 2)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if char > "\uffff")


def valid(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it encodes anywhere."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Surrogate pairs smuggled in as two code points are joined first, then lone ones replaced.
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return "".join(REPLACEMENT if "\ud800" <= c <= "\udfff" else c for c in joined)
    return text


def cut(text: str, limit: int) -> str:
    """``text`` valid and at most ``limit`` UTF-16 code units long (ending in "…" when cut).

    Limits are the server's, which counts as JavaScript does; a surrogate pair
    is never split.
    """
    text = valid(text)
    if len(text) <= limit and (text.isascii() or units(text) <= limit):
        return text
    if limit <= 0:
        return ""
    budget = limit - 1  # room for the ellipsis
    if text.isascii():
        return text[:budget] + ELLIPSIS
    # Each code point is 1 or 2 units: the first ``budget // 2`` code points always fit.
    end = min(len(text), budget // 2)
    used = units(text[:end])
    while end < len(text):
        step = 2 if text[end] > "\uffff" else 1
        if used + step > budget:
            break
        used += step
        end += 1
    return text[:end] + ELLIPSIS


def text_of(
    value: Any,
    limit: int,
    render: Optional[Callable[[Any], str]] = None,
    *,
    what: str = "unprintable",
) -> str:
    """``value`` as text (``str``, or ``render``), cut to ``limit``; never raises.

    A value whose ``__str__`` (or ``render``) raises or returns something else
    becomes ``<unprintable TYPE object>`` (``what`` names the failure).
    """
    try:
        if isinstance(value, str):
            text = value
        else:
            text = render(value) if render is not None else str(value)
        if not isinstance(text, str):  # a __str__ returning a non-str is caught by str()
            raise TypeError
    except Exception:
        try:
            text = f"<{what} {type(value).__name__} object>"
        except Exception:
            text = f"<{what} object>"
    return cut(text, limit)
