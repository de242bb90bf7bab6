"""The fingerprint: what makes two events the same bug, on every machine.

sha256 over what identifies a bug and never varies with where or when it
happened (see :class:`~.event.EventBuilder` for the parts): the exception type,
the innermost application frame's portable path, function name and stripped
failing source line, and for a chained exception the root cause's type and
its innermost application frame. Never a line number, an absolute path or a
qualified name that only some Python versions record, so it survives edits
above the bug, other install paths and Python 3.8 to 3.13.

Message events group by their text with what varies between occurrences
(numbers, ids, addresses, durations) replaced by placeholders, as Sentry does
for messages: :func:`parameterise`.
"""

import hashlib
import re
from typing import List, Tuple

#: What varies inside a message built with an f-string or concatenation,
#: most specific first, and the placeholder it becomes.
_VARYING: Tuple[Tuple[str, str], ...] = (
    (
        r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b",
        "<uuid>",
    ),
    (r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "<email>"),
    (
        r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b",
        "<date>",
    ),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b", "<ip>"),
    (r"\b(?=[0-9a-fA-F:]*\d)(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b", "<ip>"),
    (r"\b0[xX][0-9a-fA-F]+\b", "<hex>"),
    (r"\b(?=[a-fA-F]*\d)[0-9a-fA-F]{8,}\b", "<hex>"),
    (
        r"\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\b",
        "<duration>",
    ),
    (r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "<num>"),
)
_PARAMETERS = re.compile(
    "|".join(f"(?P<p{i}>{pattern})" for i, (pattern, _) in enumerate(_VARYING))
)
_PLACEHOLDERS = {f"p{i}": placeholder for i, (_, placeholder) in enumerate(_VARYING)}

#: Longest text parameterised; a group key is short, and regexes over megabytes are not free.
MAX_PARAMETERISED_CHARS = 1000


def parameterise(text: str) -> str:
    """``text`` with numbers, UUIDs, hex ids, IPs, emails, dates and durations as placeholders.

    ``"payment declined for order 8812 after 1.5s"`` becomes
    ``"payment declined for order <num> after <duration>"``; a ``%``-template
    (``"order %s failed"``) has nothing that varies and stays as it is.
    """
    text = text[:MAX_PARAMETERISED_CHARS]
    if not any(char.isdigit() for char in text):
        return text
    return _PARAMETERS.sub(_placeholder, text)


def _placeholder(match: "re.Match[str]") -> str:
    return _PLACEHOLDERS[match.lastgroup or ""]


def fingerprint(parts: List[str]) -> str:
    """16 hex characters of sha256 over ``parts``."""
    joined = "\x1f".join(parts).encode("utf-8", "replace")
    return hashlib.sha256(joined).hexdigest()[:16]
