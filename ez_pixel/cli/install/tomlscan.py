"""A small TOML scanner that keeps positions, for minimal edits of ``pyproject.toml``.

It reads what ``install`` needs (table headers, ``key = value`` entries,
strings, arrays, inline tables) and records where each value starts and ends,
so a dependency can be added by inserting text and nothing else. It is not a
validating parser: :func:`loads` (``tomllib``/``tomli`` when available) checks
every edit afterwards, and anything the scanner does not understand raises
:class:`TomlError`, which leaves the file alone.
"""

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

Key = Tuple[str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class TomlError(ValueError):
    """The text is not TOML this scanner understands."""


@dataclass
class Value:
    """A value and its position: ``kind`` is ``string``, ``array``, ``table`` or ``other``."""

    kind: str
    start: int
    end: int
    string: Optional[str] = None
    items: List["Value"] = field(default_factory=list)
    entries: Dict[str, "Value"] = field(default_factory=dict)

    @property
    def strings(self) -> List[str]:
        """The string items of an array."""
        return [item.string for item in self.items if item.string is not None]


@dataclass
class Entry:
    """``key = value`` in ``table``; ``end`` is where its line ends (before the line break)."""

    table: Key
    key: Key
    start: int
    value: Value
    end: int


@dataclass
class Header:
    """A ``[table]`` or ``[[array.of.tables]]`` line; ``end`` is before its line break."""

    name: Key
    array: bool
    start: int
    end: int


@dataclass
class Document:
    """What :func:`scan` found, with lookups by table and key."""

    text: str
    headers: List[Header]
    entries: List[Entry]

    def get(self, table: Key, key: Key) -> Optional[Value]:
        """The value of ``key`` in ``table`` (dotted keys folded), or None."""
        for entry in self.entries:
            full = entry.table + entry.key
            if full == table + key:
                return entry.value
        return None

    def table(self, name: Key) -> Dict[str, Value]:
        """The entries of a table by their first key part, plus inline-table entries."""
        found: Dict[str, Value] = {}
        for entry in self.entries:
            full = entry.table + entry.key
            if full[: len(name)] == name and len(full) == len(name) + 1:
                found[full[-1]] = entry.value
            elif full == name and entry.value.kind == "table":
                found.update(entry.value.entries)
        return found

    def header(self, name: Key) -> Optional[Header]:
        """The ``[name]`` header, if the document has one."""
        for header in self.headers:
            if header.name == name and not header.array:
                return header
        return None

    def table_end(self, name: Key) -> Optional[int]:
        """Where a new ``key = value`` line of ``[name]`` goes: after its last entry."""
        header = self.header(name)
        if header is None:
            return None
        ends = [entry.end for entry in self.entries if entry.table == name]
        return max(ends) if ends else header.end


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.n = len(text)

    def fail(self, message: str) -> TomlError:
        line = self.text.count("\n", 0, self.i) + 1
        return TomlError(f"line {line}: {message}")

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.i)

    def skip_space(self) -> None:
        while self.i < self.n and self.text[self.i] in " \t":
            self.i += 1

    def skip_comment(self) -> None:
        if self.i < self.n and self.text[self.i] == "#":
            end = self.text.find("\n", self.i)
            self.i = self.n if end == -1 else end
            if self.text[self.i - 1] == "\r":
                self.i -= 1

    def skip_blank(self) -> None:
        """Skip spaces, line breaks and comments."""
        while self.i < self.n:
            char = self.text[self.i]
            if char in " \t\r\n":
                self.i += 1
            elif char == "#":
                self.skip_comment()
            else:
                return

    def line_end(self) -> int:
        """After a statement: optional comment, then a line break or the end; return its index."""
        self.skip_space()
        self.skip_comment()
        end = self.i
        if self.peek("\r\n"):
            self.i += 2
        elif self.peek("\n"):
            self.i += 1
        elif self.i < self.n:
            raise self.fail("expected the end of the line")
        return end

    def key(self) -> Key:
        parts: List[str] = []
        while True:
            self.skip_space()
            if self.peek('"'):
                parts.append(self.basic_string().string or "")
            elif self.peek("'"):
                parts.append(self.literal_string().string or "")
            else:
                match = _BARE_KEY.match(self.text, self.i)
                if not match:
                    raise self.fail("expected a key")
                parts.append(match.group())
                self.i = match.end()
            self.skip_space()
            if not self.peek("."):
                return tuple(parts)
            self.i += 1

    def document(self) -> Document:
        headers: List[Header] = []
        entries: List[Entry] = []
        table: Key = ()
        while True:
            self.skip_blank()
            if self.i >= self.n:
                return Document(self.text, headers, entries)
            start = self.i
            if self.peek("["):
                array = self.peek("[[")
                self.i += 2 if array else 1
                name = self.key()
                close = "]]" if array else "]"
                if not self.peek(close):
                    raise self.fail(f"expected {close!r}")
                self.i += len(close)
                headers.append(Header(name, array, start, self.line_end()))
                table = name
                continue
            key = self.key()
            if not self.peek("="):
                raise self.fail("expected '='")
            self.i += 1
            self.skip_space()
            value = self.value()
            entries.append(Entry(table, key, start, value, self.line_end()))

    def value(self) -> Value:
        if self.peek('"""'):
            return self.multiline('"""')
        if self.peek("'''"):
            return self.multiline("'''")
        if self.peek('"'):
            return self.basic_string()
        if self.peek("'"):
            return self.literal_string()
        if self.peek("["):
            return self.array()
        if self.peek("{"):
            return self.inline_table()
        match = _SCALAR.match(self.text, self.i)
        raw = match.group().rstrip() if match else ""
        if not raw:
            raise self.fail("expected a value")
        start = self.i
        self.i += len(raw)
        return Value("other", start, self.i)

    def basic_string(self) -> Value:
        start = self.i
        self.i += 1
        chars: List[str] = []
        while True:
            if self.i >= self.n or self.text[self.i] == "\n":
                raise self.fail("unterminated string")
            char = self.text[self.i]
            if char == '"':
                self.i += 1
                return Value("string", start, self.i, "".join(chars))
            if char == "\\":
                chars.append(self.escape())
                continue
            chars.append(char)
            self.i += 1

    def escape(self) -> str:
        code = self.text[self.i + 1 : self.i + 2]
        if code in _ESCAPES:
            self.i += 2
            return _ESCAPES[code]
        width = {"u": 4, "U": 8}.get(code)
        digits = self.text[self.i + 2 : self.i + 2 + (width or 0)]
        if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
            self.i += 2 + width
            return chr(int(digits, 16))
        raise self.fail("invalid escape in a string")

    def literal_string(self) -> Value:
        start = self.i
        end = self.text.find("'", start + 1)
        newline = self.text.find("\n", start + 1)
        if end == -1 or (newline != -1 and newline < end):
            raise self.fail("unterminated string")
        self.i = end + 1
        return Value("string", start, self.i, self.text[start + 1 : end])

    def multiline(self, quote: str) -> Value:
        start = self.i
        self.i += 3
        while True:
            if self.i >= self.n:
                raise self.fail("unterminated string")
            if quote == '"""' and self.text[self.i] == "\\":
                self.i += 2
                continue
            if self.peek(quote):
                run = 3
                while run < 5 and self.text[self.i + run : self.i + run + 1] == quote[0]:
                    run += 1
                self.i += run
                body = self.text[start + 3 : self.i - 3]
                return Value("string", start, self.i, body.lstrip("\r\n"))
            self.i += 1

    def array(self) -> Value:
        start = self.i
        self.i += 1
        items: List[Value] = []
        while True:
            self.skip_blank()
            if self.peek("]"):
                break
            items.append(self.value())
            self.skip_blank()
            if self.peek(","):
                self.i += 1
                continue
            if not self.peek("]"):
                raise self.fail("expected ',' or ']' in an array")
            break
        self.i += 1
        return Value("array", start, self.i, items=items)

    def inline_table(self) -> Value:
        start = self.i
        self.i += 1
        entries: Dict[str, Value] = {}
        while True:
            self.skip_blank()
            if self.peek("}"):
                break
            key = self.key()
            if not self.peek("="):
                raise self.fail("expected '=' in an inline table")
            self.i += 1
            self.skip_space()
            entries[".".join(key)] = self.value()
            self.skip_blank()
            if self.peek(","):
                self.i += 1
                continue
            if not self.peek("}"):
                raise self.fail("expected ',' or '}' in an inline table")
            break
        self.i += 1
        return Value("table", start, self.i, entries=entries)


def scan(text: str) -> Document:
    """Scan ``text``; raise :class:`TomlError` (with the line) when it cannot."""
    return _Scanner(text).document()


def loads() -> Optional[Callable[[str], Dict[str, Any]]]:
    """A real TOML parser's ``loads`` (``tomllib``, else ``tomli``), or None on old Pythons."""
    for name in ("tomllib", "tomli"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        parse: Callable[[str], Dict[str, Any]] = module.loads
        return parse
    return None
