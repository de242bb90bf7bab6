"""Default scrubbing of secrets before an event leaves the process.

A value is replaced by ``[Filtered]``; its key, and the rest of the text, stay,
so the line that failed is still there to read. Runs on the worker thread over
the message, the extra fields and the code context. In source lines only
literal values (``API_KEY = "..."``) and token-shaped strings are replaced:
an expression such as ``password = form["password"]`` is code the reader needs.
What counts as a secret (key names by whole segments, token shapes, card
numbers) is :mod:`.secrets`'s.
"""

import re
from typing import Any, Dict, Iterable, List, Optional, Pattern, Sequence

from .secrets import (
    CARD_CANDIDATE,
    KEY_HINTS,
    PRIVATE_KEY_BEGIN,
    PRIVATE_KEY_BLOCK,
    PRIVATE_KEY_END,
    TOKEN_SHAPES,
    URL_PASSWORD,
    KeyNames,
    is_card,
)

FILTERED = "[Filtered]"
#: Lines a private key block may span (a 4096-bit RSA key in PEM takes about 50).
MAX_KEY_BLOCK_LINES = 200
_KEY_BEGIN = re.compile(PRIVATE_KEY_BEGIN)
_KEY_END = re.compile(PRIVATE_KEY_END)

_QUOTED = r"""(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
#: A bare value: up to a separator; ``=`` only as base64 padding at its end.
_BARE = r"""(?:(?:bearer|basic|token|digest)\s+)?[^\s,;&'"()\[\]{}=:][^\s,;&'"})\]=]*=*"""
#: A key worth looking up: one that mentions a secret word somewhere.
_NAME = r"(?<![\w.-])(?=[\w.-]*(?i:{hints}))[A-Za-z_][\w.-]*"
#: Every token shape contains one of these; most text has none, and is left at that.
_MAYBE_TOKEN = re.compile(r"[A-Za-z0-9_-]{15}|-----BEGIN|(?i:bearer)|eyJ|://|[0-9][0-9 -]{11}[0-9]")
#: A header whose whole value is secret: every cookie of a Cookie header, the
#: scheme and credentials (and AWS's ``, Signature=…`` parts) of Authorization.
_HEADER = re.compile(
    r"(?i)(?P<head>(?<![\w'\"-])(?:(?:set-)?cookie[ \t]*:[ \t]*(?=[^\s'\"\[])"
    r"(?P<cookies>[^\s;]+(?:;[ \t]*[^\s;]+)*)"
    r"|(?:(?:proxy-)?authorization|x-api-key|x-auth-token)[ \t]*:[ \t]*(?=[^\s'\"\[])))"
    r"(?(cookies)|(?P<credentials>(?:[A-Za-z][\w-]*[ \t]+)?[^\s,]+(?:,[ \t]*[\w-]+=[^\s,]+)*))"
)


class Scrubber:
    """Replaces secret values in text; built once per client from its options."""

    def __init__(self, extra_keys: Iterable[str] = (), extra_patterns: Iterable[str] = ()) -> None:
        extra_keys = [key for key in extra_keys if key]
        self._names = KeyNames(extra_keys)
        hints = (*KEY_HINTS, *(key.lower() for key in extra_keys))
        self._hints = tuple(hints)
        name = _NAME.format(hints="|".join(re.escape(h) for h in hints))
        key = rf"""(?P<q>["']?)(?P<name>{name})(?P=q)"""
        self._pair = re.compile(rf"(?P<head>{key}\s*(?:=|:)\s*)(?P<value>{_QUOTED}|{_BARE})", re.I)
        self._literal = re.compile(
            rf"(?P<head>{key}\s*(?::\s*[\w.\[\], ]+?\s*)?(?:=|:)\s*)"
            rf"(?P<value>[rbfuRBFU]{{0,2}}{_QUOTED})"
        )
        self._query = re.compile(rf"(?P<head>[?&;](?P<name>{name})=)(?P<value>[^&#\s'\"]+)")
        shapes = "|".join(f"(?:{shape})" for shape in TOKEN_SHAPES)
        # Every shape but a key block starts a word: one \b first rejects the
        # other positions at once, instead of each alternative trying them.
        self._shapes = re.compile(
            rf"\b(?:(?P<token>{shapes})|(?P<card>{CARD_CANDIDATE})|(?P<url>{URL_PASSWORD}))"
            rf"|(?P<block>{PRIVATE_KEY_BLOCK})"
        )
        self._patterns: List[Pattern[str]] = []
        patterns = list(extra_patterns)
        if patterns:
            try:  # one pass over the text instead of one per pattern
                self._patterns = [re.compile("|".join(f"(?:{p})" for p in patterns))]
            except re.error:  # a user pattern with global flags cannot be joined
                self._patterns = [re.compile(p) for p in patterns]

    def is_secret_key(self, key: str) -> bool:
        """Whether a mapping key names a secret (its value is filtered whole)."""
        return self._names.secret(key)

    def text(self, text: str) -> str:
        """``text`` with every ``key=value`` secret and token-shaped string filtered."""
        if self._mentions_key(text):
            text = _HEADER.sub(_header_value, text)
            text = self._pair.sub(self._keyed, text)
        return self._tokens(text)

    def source_line(self, line: str) -> str:
        """A line of code with only literal secrets filtered; the code stays readable."""
        if self._mentions_key(line):
            line = self._literal.sub(self._keyed, line)
            line = self._query.sub(self._keyed, line)
        return self._tokens(line)

    @staticmethod
    def key_block_lines(source: Sequence[str]) -> Dict[int, str]:
        """The lines of ``source`` inside private key blocks, by line number, filtered.

        A code window shows a few lines of a file, perhaps only the middle of
        a key written over many lines, where no single line looks secret; so
        the blocks are found in the whole file. The line that begins a block
        is left to :meth:`source_line` (it filters from the marker on); the
        lines after it, up to and including the end marker, are replaced,
        keeping what follows the marker. A begin marker with no end marker
        within :data:`MAX_KEY_BLOCK_LINES` lines, or before the next begin
        marker (a PEM parser's constant), hides nothing more.
        """
        found: Dict[int, str] = {}
        if not any("PRIVATE KEY" in line for line in source):
            return found
        number = 0
        while number < len(source):
            begin = _KEY_BEGIN.search(source[number])
            number += 1
            if begin is None or _KEY_END.search(source[number - 1], begin.end()):
                continue
            for offset, line in enumerate(source[number : number + MAX_KEY_BLOCK_LINES]):
                end = _KEY_END.search(line)
                again = _KEY_BEGIN.search(line)
                if again is not None and (end is None or again.start() < end.start()):
                    break  # another block begins first: this marker ends nothing
                if end is not None:
                    for inside in range(number, number + offset):
                        found[inside + 1] = FILTERED
                    before = line[: end.start()]  # code such as `E = "`, not key material
                    kept = before if len(before.strip()) < 16 else ""
                    found[number + offset + 1] = kept + FILTERED + line[end.end() :].rstrip("\r\n")
                    number += offset + 1
                    break
        return found

    def _mentions_key(self, text: str) -> bool:
        lowered = text.lower()
        return any(word in lowered for word in self._hints)

    def _keyed(self, match: "re.Match[str]") -> str:
        if not self._names.secret(match.group("name")):
            return match.group(0)
        value = match.group("value")
        quote_at = next((i for i, c in enumerate(value[:3]) if c in "'\""), -1)
        if quote_at < 0:
            return f"{match.group('head')}{FILTERED}"
        quoted = value[: quote_at + 1]
        return f"{match.group('head')}{quoted}{FILTERED}{value[quote_at]}"

    def _tokens(self, text: str) -> str:
        if _MAYBE_TOKEN.search(text):
            text = self._shapes.sub(_shape, text)
        for pattern in self._patterns:
            text = pattern.sub(FILTERED, text)
        return text

    def value(self, key: Optional[str], value: Any) -> Any:
        """A JSON value with secrets filtered: whole values under secret keys, text elsewhere."""
        if key is not None and self.is_secret_key(key):
            return FILTERED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(None, v) for v in value]
        return value


def _header_value(match: "re.Match[str]") -> str:
    head = match.group("head")
    if match.group("cookies") is not None:
        return head[: match.start("cookies") - match.start()] + FILTERED
    return head + FILTERED


def _shape(match: "re.Match[str]") -> str:
    if match.group("card") is not None:
        return FILTERED if is_card(match.group("card")) else match.group(0)
    if match.group("url") is not None:
        start, end = match.span("urlpw")
        base = match.start()
        whole = match.group(0)
        return f"{whole[: start - base]}{FILTERED}{whole[end - base :]}"
    return FILTERED
