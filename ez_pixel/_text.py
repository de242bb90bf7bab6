"""Text the SDK takes from the app, made safe to keep and to send: one helper.

Anything the app hands us (an exception's ``str``, a bound value, a source
line) may raise when printed, be megabytes long, or hold lone surrogates that
a JSON body cannot carry. :func:`text_of` turns any value into text without
raising and :func:`cut` bounds text and makes it encodable, so that every
field of an event is cut the same way in one place.
"""

from typing import Any, Callable, Optional

#: The mark that ends text cut short.
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters long (ending in "…" when cut), UTF-8 encodable."""
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not valid in a JSON body
            text = text.encode("utf-8", "replace").decode("utf-8")  # each becomes "?"
    return text


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
