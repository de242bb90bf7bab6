"""Turning captured frames into wire frames: paths, ``in_app``, columns, source.

Runs on the worker thread. A path is made portable so that the same bug has
the same frames on every machine: application files relative to the project
root, library and stdlib files relative to their import root
(``urllib3/connectionpool.py``), and never an absolute path.
"""

import dis
import itertools
import linecache
import os
import sys
import sysconfig
from types import CodeType
from typing import Dict, List, Optional, Sequence, Tuple

from .._text import cut
from .snapshot import CapturedFrame, RawFrame, module_name
from .statements import StatementStarts

#: Longest source line kept in an event; longer ones are cut.
MAX_LINE_CHARS = 300
MAX_NAME_CHARS = 512
_LIBRARY_DIRS = ("site-packages", "dist-packages")
#: Directories inside a project that hold installed code, never the app's own.
_ENV_DIR_NAMES = frozenset((".venv", ".tox", ".nox", "__pypackages__", "node_modules"))
#: This SDK's own package: its frames are never application code.
_SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SDK_MODULE = "ez_pixel"
#: Directories above a file searched for a virtualenv's ``pyvenv.cfg``.
_VENV_DEPTH = 6


def line_of(code: CodeType, lasti: int) -> int:
    """The line number of the instruction at byte offset ``lasti`` of ``code``; 0 when unknown.

    What ``tb_lineno`` and ``f_lineno`` say, worked out from the code's line
    table here on the worker rather than on the app's thread (where Python
    3.11+ computes it on every read).
    """
    if lasti < 0:
        return code.co_firstlineno
    lines = getattr(code, "co_lines", None)  # Python 3.10+
    if lines is not None:
        for start, end, line in lines():
            if start <= lasti < end:
                return line or 0
        return 0
    found = 0
    for offset, line in dis.findlinestarts(code):
        if offset > lasti:
            break
        found = line
    return found


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


def _env_dirs() -> List[str]:
    """Where Python environments keep scripts and installed code: never the app's.

    A virtualenv's ``bin/`` holds console-script launchers (``bin/gunicorn``);
    they run the app but are not its code.
    """
    found = set()
    for prefix in {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}:
        for sub in ("bin", "Scripts", "lib", "lib64", "Lib", "include"):
            found.add(_norm(os.path.join(prefix, sub)))
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
        self._envs = _env_dirs()
        self._statements = StatementStarts()
        self._sdk = (_norm(_SDK_DIR), _norm(os.path.realpath(_SDK_DIR)))
        #: Directory -> whether it is (inside) a Python environment.
        self._env_dir: Dict[str, bool] = {}
        self._files: Dict[Tuple[str, str], Tuple[str, bool]] = {}
        self._wire: Dict[Tuple[int, int], Tuple[object, Dict[str, object]]] = {}
        self._lines: Dict[Tuple[int, int], Tuple[CodeType, int]] = {}

    def locate(self, frames: List[CapturedFrame]) -> List[RawFrame]:
        """``frames`` with their line numbers (see :func:`line_of`), cached per instruction."""
        located: List[RawFrame] = []
        for frame in frames:
            if len(frame) == 4:  # an imitation traceback's frame: its line came with it
                located.append(frame)  # type: ignore[arg-type]
                continue
            code, lasti, namespace = frame  # type: ignore[misc]
            key = (id(code), lasti)
            known = self._lines.get(key)
            if known is None or known[0] is not code:  # the identity check guards against id reuse
                if len(self._lines) >= 4096:
                    self._lines.clear()
                known = self._lines[key] = (code, line_of(code, lasti))
            located.append((code, known[1], lasti, namespace))
        return located

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
        library = self._is_sdk(path, real, module) or self._in_env(path)
        for candidate in (path, real):
            for root in self._roots:
                if _under(candidate, root):
                    in_app = not library and not self._in_venv(candidate, root)
                    return self._relative(candidate, root), in_app
        library = library or self._in_venv(path, "")
        return self._outside_path(path, module), not library

    def _is_sdk(self, path: str, real: str, module: str) -> bool:
        if module == _SDK_MODULE or module.startswith(_SDK_MODULE + "."):
            return True
        return any(_under(p, sdk) for p in (path, real) for sdk in self._sdk)

    def _in_env(self, path: str) -> bool:
        return any(_under(path, directory) for directory in self._envs)

    def _in_venv(self, path: str, root: str) -> bool:
        """Whether ``path`` lies in a virtualenv (a ``pyvenv.cfg`` above it) or a tool directory.

        Catches a project's own ``.venv`` and console-script launchers
        (``venv/bin/gunicorn``) of environments other than the running one.
        Inside the project, only directories below ``root`` count: a project
        kept inside a virtualenv's directory is still the app.
        """
        directory = os.path.dirname(path)
        for _ in range(_VENV_DEPTH):
            if (root and not _under(directory, root)) or directory == root:
                break
            known = self._env_dir.get(directory)
            if known is None:
                known = os.path.basename(directory) in _ENV_DIR_NAMES or os.path.isfile(
                    os.path.join(directory, "pyvenv.cfg")
                )
                if len(self._env_dir) < 4096:
                    self._env_dir[directory] = known
            if known:
                return True
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        return False

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

        Cached per code object and instruction: a recurring error repeats its
        frames, and resolving one (path, module, column) is most of the cost
        of building an event.
        """
        code, _, lasti, _ = raw
        key = (id(code), lasti)
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
        """The stripped first line of the failing statement of ``raw``, or '' when unknown.

        The statement's first line, not the reported one: Python versions
        report different lines inside a statement spanning several.
        """
        code, lineno, _, _ = raw
        lines = self.source(code.co_filename, module_name(raw))
        if not lines or not 0 < lineno <= len(lines):
            return ""
        lineno = self._statements.start(code.co_filename, lines, lineno)
        return lines[lineno - 1].strip()[:MAX_LINE_CHARS]

    def context(self, raw: RawFrame, window: int) -> Optional[Tuple[int, List[str]]]:
        """``(first line number, lines)`` around the line of ``raw``, or None.

        The window is centred on the failing line, as the fix agent numbers it
        (see :func:`centred`).
        """
        code, lineno, _, _ = raw
        lines = self.source(code.co_filename, module_name(raw))
        if not lines or not 0 < lineno <= len(lines):
            return None
        first, last = centred(lineno, len(lines), window)
        chosen = lines[first - 1 : last]
        return first, [line.rstrip("\r\n")[:MAX_LINE_CHARS] for line in chosen]


def centred(lineno: int, total: int, window: int) -> Tuple[int, int]:
    """First and last line numbers of a code window the fix agent numbers right.

    The agent numbers ``lines`` from ``error_line - (len(lines) - 1) // 2``,
    ignoring any start line we send, so the failing line must sit at index
    ``(len - 1) // 2``: as many lines before it as after (one more after is
    allowed). Near the start or the end of a file the window shrinks to fit.
    """
    before = max(0, min(window, lineno - 1, total - lineno))
    after = min(before + 1, window, total - lineno) if before < window else before
    return lineno - before, lineno + after


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
