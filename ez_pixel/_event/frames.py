"""Turning captured frames into wire frames: paths, ``in_app``, columns, source.

Runs on the worker thread. A path is made portable so that the same bug has
the same frames on every machine: application files relative to the project
root, library and stdlib files relative to their import root
(``urllib3/connectionpool.py``), and never an absolute path.
"""

import itertools
import linecache
import os
import sys
import sysconfig
from typing import Dict, List, Optional, Sequence, Tuple

from .._text import cut
from .snapshot import RawFrame, module_name

#: Longest source line kept in an event; longer ones are cut.
MAX_LINE_CHARS = 300
MAX_NAME_CHARS = 512
_LIBRARY_DIRS = ("site-packages", "dist-packages")


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _stdlib_dirs() -> List[str]:
    dirs = {os.path.dirname(os.__file__)}
    for key in ("stdlib", "platstdlib"):
        try:
            dirs.add(sysconfig.get_paths()[key])
        except (KeyError, OSError):
            pass
    found = set()
    for directory in dirs:
        found.add(_norm(directory))
        found.add(_norm(os.path.realpath(directory)))
    return sorted(found, key=len, reverse=True)


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _matches(module: str, prefixes: Sequence[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


class FrameResolver:
    """Resolves captured frames to wire frames for one project; caches per file."""

    def __init__(
        self,
        project_root: str,
        in_app_include: Sequence[str] = (),
        in_app_exclude: Sequence[str] = (),
    ) -> None:
        root = _norm(project_root)
        self._roots = sorted({root, _norm(os.path.realpath(root))}, key=len, reverse=True)
        self._include = tuple(in_app_include)
        self._exclude = tuple(in_app_exclude)
        self._stdlib = _stdlib_dirs()
        self._files: Dict[Tuple[str, str], Tuple[str, bool]] = {}
        self._wire: Dict[Tuple[int, int, int], Tuple[object, Dict[str, object]]] = {}

    def describe(self, filename: str, module: str) -> Tuple[str, bool]:
        """The portable path of ``filename`` and whether it is application code."""
        key = (filename, module)
        found = self._files.get(key)
        if found is None:
            path, in_app = self._locate(filename, module)
            if self._include and _matches(module, self._include):
                in_app = True
            elif self._exclude and _matches(module, self._exclude):
                in_app = False
            found = (path[:MAX_NAME_CHARS], in_app)
            if len(self._files) < 4096:
                self._files[key] = found
        return found

    def _locate(self, filename: str, module: str) -> Tuple[str, bool]:
        if not filename or filename.startswith("<"):
            return filename or "<unknown>", False  # <string>, <stdin>, <frozen ...>
        path = _norm(filename)
        parts = path.replace(os.sep, "/").split("/")
        for index in range(len(parts) - 1, -1, -1):
            if parts[index] in _LIBRARY_DIRS:
                return "/".join(parts[index + 1 :]), False
        for directory in self._stdlib:
            if _under(path, directory):
                return self._relative(path, directory), False
        real = _norm(os.path.realpath(filename))
        for candidate in (path, real):
            for root in self._roots:
                if _under(candidate, root):
                    return self._relative(candidate, root), True
        return self._outside_path(path, module), True

    @staticmethod
    def _relative(path: str, directory: str) -> str:
        return os.path.relpath(path, directory).replace(os.sep, "/")

    def _outside_path(self, path: str, module: str) -> str:
        """A file outside the project: relative to its import root, never absolute."""
        best = ""
        for entry in sys.path:
            if entry:
                directory = _norm(entry)
                if _under(path, directory) and len(directory) > len(best):
                    best = directory
        if best:
            return self._relative(path, best)
        base = os.path.basename(path)
        if module and module != "__main__" and "." in module:
            package = module.rsplit(".", 1)[0] if not base.startswith("__init__") else module
            return package.replace(".", "/") + "/" + base
        return base

    def wire_frame(self, raw: RawFrame) -> Dict[str, object]:
        """One frame as the server expects it: a new ``{file, line, col, fn, in_app}``.

        Cached per code object, line and instruction: a recurring error
        repeats its frames, and resolving one (path, module, column) is most
        of the cost of building an event.
        """
        code, lineno, lasti, _ = raw
        key = (id(code), lasti, lineno)
        found = self._wire.get(key)
        if found is None or found[0] is not code:  # the identity check guards against id reuse
            if len(self._wire) >= 4096:
                self._wire.clear()
            found = self._wire[key] = (code, self._resolve(raw))
        return dict(found[1])

    def _resolve(self, raw: RawFrame) -> Dict[str, object]:
        code, lineno, _, _ = raw
        file, in_app = self.describe(code.co_filename, module_name(raw))
        fn = getattr(code, "co_qualname", None) or code.co_name
        return {
            "file": cut(file, MAX_NAME_CHARS),
            "line": lineno,
            "col": self.column(raw),
            "fn": cut(str(fn), MAX_NAME_CHARS),
            "in_app": in_app,
        }

    @staticmethod
    def column(raw: RawFrame) -> int:
        """1-based column of the failing expression (Python 3.11+), 0 when unknown."""
        code, lineno, lasti, _ = raw
        positions = getattr(code, "co_positions", None)
        if positions is None or lasti < 0:
            return 0
        try:
            found = next(itertools.islice(positions(), lasti // 2, None), None)
        except Exception:
            return 0
        if not found or found[0] != lineno or found[2] is None:
            return 0
        byte_offset: int = found[2]
        lines = FrameResolver.source(code.co_filename, module_name(raw))
        if lines and 0 < lineno <= len(lines):
            prefix = lines[lineno - 1].encode("utf-8", "replace")[:byte_offset]
            return len(prefix.decode("utf-8", "replace")) + 1
        return byte_offset + 1

    @staticmethod
    def source(filename: str, module: str = "") -> Optional[List[str]]:
        """The file's lines, decoded leniently; None when it cannot be read.

        Files inside zip archives (zipimport) are read through their module's loader.
        """
        if not filename or filename.startswith("<"):
            return None
        try:
            lines = linecache.getlines(filename)
        except Exception:  # Python 3.8 raises SyntaxError for a bad encoding cookie
            lines = []
        if lines:
            return lines
        try:  # linecache gives up on files that are not valid in their declared encoding
            with open(filename, "rb") as handle:
                data = handle.read(4_000_000)
        except (OSError, ValueError):
            return _loader_source(module)
        if b"\0" in data:
            return None
        return data.decode("utf-8", "replace").splitlines(True)

    def line_text(self, raw: RawFrame) -> str:
        """The stripped source line of ``raw``, or '' when it is not available."""
        code, lineno, _, _ = raw
        lines = self.source(code.co_filename, module_name(raw))
        if not lines or not 0 < lineno <= len(lines):
            return ""
        return lines[lineno - 1].strip()[:MAX_LINE_CHARS]

    def context(self, raw: RawFrame, window: int) -> Optional[Tuple[int, List[str]]]:
        """``(first line number, lines)`` around the line of ``raw``, or None."""
        code, lineno, _, _ = raw
        lines = self.source(code.co_filename, module_name(raw))
        if not lines or not 0 < lineno <= len(lines):
            return None
        start = max(1, lineno - window)
        chosen = lines[start - 1 : lineno + window]
        return start, [line.rstrip("\r\n")[:MAX_LINE_CHARS] for line in chosen]


def _loader_source(module: str) -> Optional[List[str]]:
    loaded = sys.modules.get(module) if module else None
    get_source = getattr(getattr(loaded, "__loader__", None), "get_source", None)
    if get_source is None:
        return None
    try:
        text = get_source(module)
    except Exception:
        return None
    return text.splitlines(True) if isinstance(text, str) else None
