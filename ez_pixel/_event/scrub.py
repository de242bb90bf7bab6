"""Default scrubbing of obvious secrets before an event leaves the process.

A value is replaced by ``[Filtered]``; its key, and the rest of the text, stay,
so the line that failed is still there to read. Runs on the worker thread over
the message, the extra fields and the code context. In source lines only
literal values (``API_KEY = "..."``) and token-shaped strings are replaced:
an expression such as ``password = form["password"]`` is code the reader needs.
"""

import re
from typing import Any, Iterable, List, Optional, Pattern

FILTERED = "[Filtered]"

#: Key names whose values are secrets (matched anywhere in the key, any case).
DEFAULT_KEYS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "private_key",
    "authorization",
    "cookie",
    "session",
    "credential",
    "dsn",
)

#: Strings that are secrets whatever key they sit under.
DEFAULT_PATTERNS = (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    r"\b(?i:bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\b(?:sk|rk|pk)_live_[0-9A-Za-z]{8,}\b",  # Stripe live keys
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",  # Slack tokens
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",  # JWTs
)

_QUOTED = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_BARE = r"""(?:(?:bearer|basic|token|digest)\s+)?[^\s,;&'"})\]]+"""
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)", re.IGNORECASE)


class Scrubber:
    """Replaces secret values in text; built once per client from its options."""

    def __init__(self, extra_keys: Iterable[str] = (), extra_patterns: Iterable[str] = ()) -> None:
        keys = "|".join(re.escape(k) for k in (*DEFAULT_KEYS, *extra_keys) if k)
        name = rf"[\w.-]*(?:{keys})[\w.-]*"
        assignment = rf"""(?i)(["']?{name}["']?\s*(?:=|:)\s*)"""
        self._pair = re.compile(rf"{assignment}({_QUOTED}|{_BARE})")
        self._literal = re.compile(rf"{assignment}({_QUOTED})")
        # Cheap substring checks decide whether the key=value patterns need to run.
        self._key_words = tuple(k.lower() for k in (*DEFAULT_KEYS, *extra_keys) if k)
        patterns = (*DEFAULT_PATTERNS, *extra_patterns)
        try:  # one pass over the text instead of one per pattern
            self._patterns: List[Pattern[str]] = [
                re.compile("|".join(f"(?:{p})" for p in patterns))
            ]
        except re.error:  # a user pattern with global flags cannot be joined
            self._patterns = [re.compile(p) for p in patterns]
        self._keys = re.compile(rf"(?i)^{name}$")

    def is_secret_key(self, key: str) -> bool:
        """Whether a mapping key names a secret (its value is filtered whole)."""
        return bool(self._keys.match(key))

    def text(self, text: str) -> str:
        """``text`` with every ``key=value`` secret and token-shaped string filtered."""
        if self._mentions_key(text):
            text = self._pair.sub(_keep_quotes, text)
        return self._tokens(text)

    def source_line(self, line: str) -> str:
        """A line of code with only literal secrets filtered; the code stays readable."""
        if self._mentions_key(line):
            line = self._literal.sub(_keep_quotes, line)
        return self._tokens(line)

    def _mentions_key(self, text: str) -> bool:
        lowered = text.lower()
        return any(word in lowered for word in self._key_words)

    def _tokens(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub(FILTERED, text)
        if "://" in text:
            text = _URL_PASSWORD.sub(rf"\1{FILTERED}\3", text)
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


def _keep_quotes(match: "re.Match[str]") -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote}{FILTERED}{quote}"
