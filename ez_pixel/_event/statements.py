"""Where the failing statement starts: the same line on every Python version.

Python versions disagree on the line they report for an error inside a
statement spanning several lines: 3.8 names the last line the failing
expression reached, 3.11+ its first. The fingerprint hashes the failing
source text, so it uses the first line of the innermost statement holding
the reported line, which every version agrees on. Runs on the worker thread;
each file is parsed once.
"""

import ast
from typing import Dict, List, Optional, Sequence, Tuple

#: Files longer than this are not parsed: the reported line is used as it is.
MAX_PARSED_CHARS = 1_000_000
_MAX_FILES = 256

Span = Tuple[int, int]


def _spans(source: str) -> Optional[List[Span]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: List[Span] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            found.append((node.lineno, getattr(node, "end_lineno", None) or node.lineno))
    return found


class StatementStarts:
    """First line of the statement holding a line, per file; cached."""

    def __init__(self) -> None:
        self._files: Dict[str, Optional[List[Span]]] = {}

    def start(self, filename: str, lines: Sequence[str], lineno: int) -> int:
        """The first line of the innermost statement holding ``lineno``; ``lineno`` when unknown."""
        if filename not in self._files:
            text = "".join(lines)
            if len(self._files) >= _MAX_FILES:
                self._files.clear()
            self._files[filename] = _spans(text) if len(text) <= MAX_PARSED_CHARS else None
        spans = self._files[filename]
        best = lineno
        best_width = None
        for first, last in spans or ():
            if first <= lineno <= last and (best_width is None or last - first < best_width):
                best, best_width = first, last - first
        return best
