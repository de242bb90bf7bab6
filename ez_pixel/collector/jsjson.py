"""JSON and text exactly as the hosted server's JavaScript runtime handles them.

The server decodes the body as UTF-8 (bad bytes become U+FFFD, leading byte
order marks are dropped), parses it with ``JSON.parse`` (every number a
double, no depth limit) and stores ``stack``/``code_context`` re-encoded with
``JSON.stringify`` (``1.0`` becomes ``1``, ``1e400`` becomes ``null``, lone
surrogates are escaped). A string holding a lone surrogate is written to its
SQLite store as invalid UTF-8 and read back as U+FFFD. Reproducing each step
keeps what the collector stores identical to what the server stores.
"""

import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, List, Tuple, cast

#: ``JSON.stringify`` runs out of call stack near this nesting depth: the server
#: answers 500. The exact depth varies with the runtime (about 4,100 measured on
#: Node 20, a little less when the handler's own frames are deeper).
MAX_STRINGIFY_DEPTH = 4000

# json.decoder.scanstring exists at run time (C or Python) but is not in the stubs.
_scanstring = cast(Callable[[str, int, bool], Tuple[str, int]], json.decoder.scanstring)  # type: ignore[attr-defined]
_BOM = "\ufeff"
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LITERALS = (("true", True), ("false", False), ("null", None))


class TooDeep(Exception):
    """``JSON.stringify`` would exceed the JavaScript call stack."""


def decode_body(body: bytes) -> str:
    """The body as the server's ``c.req.text()`` returns it."""
    text = body.decode("utf-8", "replace")
    for _ in range(2):  # the request decoder and the body reader each drop one
        if text.startswith(_BOM):
            text = text[1:]
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def parse(text: str) -> Any:
    """``JSON.parse``: numbers become floats; raises ValueError when it is not JSON."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except RecursionError:
        return _parse_deep(text)


def _read_key(text: str, pos: int) -> Tuple[str, int]:
    if text[pos : pos + 1] != '"':
        raise ValueError("expected a key")
    key, pos = _scanstring(text, pos + 1, True)
    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] != ":":
        raise ValueError("expected ':'")
    return key, _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def _scalar(text: str, pos: int) -> Tuple[Any, int]:
    if text[pos : pos + 1] == '"':
        return _scanstring(text, pos + 1, True)
    for word, value in _LITERALS:
        if text.startswith(word, pos):
            return value, pos + len(word)
    match = _NUMBER.match(text, pos)
    if match is None or match.end() == pos:
        raise ValueError(f"unexpected character at {pos}")
    return float(match.group()), match.end()


def _parse_deep(text: str) -> Any:
    """An iterative parser for what nests too deep for :func:`json.loads`."""
    stack: List[Tuple[Any, str]] = []
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        opener = text[pos : pos + 1]
        if opener in ("[", "{"):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            empty = text[pos : pos + 1] == ("]" if opener == "[" else "}")
            if not empty:
                if opener == "[":
                    stack.append(([], ""))
                else:
                    key, pos = _read_key(text, pos)
                    stack.append(({}, key))
                continue
            value: Any = [] if opener == "[" else {}
            pos += 1
        else:
            value, pos = _scalar(text, pos)
        while True:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if not stack:
                if pos != len(text):
                    raise ValueError("extra data")
                return value
            container, key = stack[-1]
            if isinstance(container, list):
                container.append(value)
            else:
                container[key] = value
            char = text[pos : pos + 1]
            if char == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(container, dict):
                    key, pos = _read_key(text, pos)
                    stack[-1] = (container, key)
                break
            if char != ("]" if isinstance(container, list) else "}"):
                raise ValueError(f"unexpected character at {pos}")
            pos += 1
            stack.pop()
            value = container


def number_text(value: float) -> str:
    """``String(value)`` for a JavaScript number."""
    if value != value or value in (float("inf"), float("-inf")):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + int(exponent)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def _string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _is_index(key: str) -> bool:
    return key.isdigit() and key.isascii() and str(int(key)) == key and int(key) < 2**32 - 1


def _ordered_keys(obj: Dict[str, Any]) -> List[str]:
    """JavaScript's property order: array-index keys ascending, then insertion order."""
    indices = sorted((k for k in obj if _is_index(k)), key=int)
    return indices + [k for k in obj if not _is_index(k)]


def _atom(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    number = float(value)
    return "null" if number != number or abs(number) == float("inf") else number_text(number)


def stringify(value: Any) -> str:
    """``JSON.stringify(value)`` for a parsed JSON value; :class:`TooDeep` past the stack."""
    if not isinstance(value, (list, dict)):
        return _atom(value)
    out: List[str] = []
    # One frame per open container: [container, its keys or indices, next position].
    frames: List[List[Any]] = []

    def open_container(item: Any) -> None:
        if len(frames) >= MAX_STRINGIFY_DEPTH:
            raise TooDeep()
        is_list = isinstance(item, list)
        out.append("[" if is_list else "{")
        frames.append([item, range(len(item)) if is_list else _ordered_keys(item), 0])

    open_container(value)
    while frames:
        frame = frames[-1]
        container, names, position = frame
        if position == len(names):
            out.append("]" if isinstance(container, list) else "}")
            frames.pop()
            continue
        frame[2] = position + 1
        if position:
            out.append(",")
        name = names[position]
        if isinstance(container, dict):
            out.append(_string(name) + ":")
        item = container[name]
        if isinstance(item, (list, dict)):
            open_container(item)
        else:
            out.append(_atom(item))
    return "".join(out)


def is_truthy(value: Any) -> bool:
    """JavaScript truthiness of a parsed JSON value."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, float):
        return value == value and value != 0
    return True


def as_stored(text: str) -> str:
    """A string as the server's SQLite store gives it back (lone surrogates garbled)."""
    if _LONE_SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def js_string(value: Any) -> str:
    """``String(value)`` of a parsed JSON value, as the server's error texts print it."""
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return _atom(value)
    return number_text(float(value))
