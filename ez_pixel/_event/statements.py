"""Where the failing statement starts: the same line on every Python version.

Python versions disagree on the line they report for an error inside a
statement spanning several lines (3.8 often names the last line the failing
expression reached, 3.11+ its first). The fingerprint hashes the failing
source text, so it uses the first line of the logical line holding the
reported one, which every version agrees on. Logical lines come from the
tokenizer, never from ``ast``: on Python 3.11, ``ast.parse`` on a thread can
fail with ``SystemError`` while another thread compiles, and a fingerprint
must not depend on a race. Runs on the worker thread; each file once.
"""

import bisect
import io
import tokenize
from typing import Dict, List, Optional, Sequence

#: Files longer than this are not tokenized: the reported line is used as it is.
MAX_TOKENIZED_CHARS = 500_000
_MAX_FILES = 256
_SKIPPED = frozenset(
    (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
)


def logical_starts(source: str) -> Optional[List[int]]:
    """The first line number of every logical line of ``source``; None when it does not tokenize."""
    starts: List[int] = []
    at_start = True
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NEWLINE:
                at_start = True
            elif token.type not in _SKIPPED and at_start:
                starts.append(token.start[0])
                at_start = False
    except Exception:  # TokenError, IndentationError, SyntaxError (3.12+): not Python source
        return None
    return starts


class StatementStarts:
    """First line of the logical line holding a line, per file; cached."""

    def __init__(self) -> None:
        self._files: Dict[str, Optional[List[int]]] = {}

    def start(self, filename: str, lines: Sequence[str], lineno: int) -> int:
        """The first line of the logical line holding ``lineno``; ``lineno`` when unknown."""
        if filename not in self._files:
            text = "".join(lines)
            if len(self._files) >= _MAX_FILES:
                self._files.clear()
            self._files[filename] = (
                logical_starts(text) if len(text) <= MAX_TOKENIZED_CHARS else None
            )
        starts = self._files[filename]
        if not starts:
            return lineno
        index = bisect.bisect_right(starts, lineno) - 1
        return starts[index] if index >= 0 else lineno
