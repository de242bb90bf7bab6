"""The project root, files inside it, and the changes ``install`` makes to them.

Every path is resolved against the root and refused when it leads outside it
(``..``, or a symlink pointing elsewhere). Files are read and written as bytes,
so line endings, a UTF-8 BOM and everything ``install`` did not touch come back
exactly as they were; a change is written atomically (temporary file, then
``os.replace``) with the original file's permissions.
"""

import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

#: Files larger than this are never read (a generated module, a data dump).
MAX_FILE_BYTES = 2_000_000
BOM = "\ufeff"


class InstallError(Exception):
    """A failure that stops ``install`` before anything was written, with one line to say why."""


def is_inside(root: Path, path: Path) -> bool:
    """True when ``path`` (already resolved) is ``root`` or below it."""
    return path == root or root in path.parents


class Project:
    """The directory ``install`` works on: nothing outside it is ever edited or written."""

    def __init__(self, path: str) -> None:
        """Resolve ``path``; raise :class:`InstallError` unless it is a directory."""
        root = Path(path).expanduser()
        if not root.is_dir():
            raise InstallError(f"{path} is not a directory")
        self.root = root.resolve()

    def path(self, rel: str) -> Path:
        """The path of ``rel`` (POSIX, relative to the root), checked to stay inside the root.

        A symlink may point elsewhere inside the project; one pointing outside
        raises :class:`InstallError`.
        """
        candidate = self.root / rel
        resolved = candidate.resolve()
        if not is_inside(self.root, resolved):
            what = "is a symlink to" if candidate.is_symlink() else "resolves to"
            raise InstallError(f"{rel} {what} {resolved}, outside the project: left alone")
        return resolved

    def rel(self, path: Path) -> str:
        """``path`` (under the root, unresolved) as a POSIX path relative to the root."""
        return path.relative_to(self.root).as_posix()

    def exists(self, rel: str) -> bool:
        """True when ``rel`` is a regular file inside the project (a symlink out is absent)."""
        try:
            return self.path(rel).is_file()
        except InstallError:
            return False


@dataclass
class Text:
    """A text file's content as ``install`` edits it: no BOM, original line endings kept."""

    text: str
    bom: bool = False

    @property
    def newline(self) -> str:
        """The file's line ending, for inserted lines."""
        return "\r\n" if "\r\n" in self.text else "\n"

    def encode(self, text: str) -> bytes:
        """``text`` as bytes written back with the original BOM, if there was one."""
        return ((BOM if self.bom else "") + text).encode("utf-8")


def read_text(project: Project, rel: str) -> Tuple[Optional[Text], Optional[str]]:
    """Return ``(text, None)``, ``(None, None)`` when absent, or ``(None, why)`` when unreadable."""
    try:
        path = project.path(rel)
    except InstallError as exc:
        return None, str(exc)
    if not path.exists():
        return None, None
    if not path.is_file():
        return None, f"{rel} is not a regular file: left alone"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, f"{rel} is larger than {MAX_FILE_BYTES} bytes: left alone"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read {rel} ({exc.strerror or exc}): left alone"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{rel} is not UTF-8 text: left alone"
    if text.startswith(BOM):
        return Text(text[1:], bom=True), None
    return Text(text), None


def split_lines(text: str) -> List[str]:
    """``text`` as lines that keep their ending, split on ``\\n`` only (like Python's tokenizer)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


@dataclass
class Change:
    """One file ``install`` creates or edits: its old and new text, and why."""

    rel: str
    old: Optional[str]
    new: str
    original: Text = field(default_factory=lambda: Text(""))
    reasons: List[str] = field(default_factory=list)

    def diff(self) -> str:
        """The exact unified diff of this change (``/dev/null`` as the old side of a new file)."""
        old_lines = split_lines(self.old or "")
        new_lines = split_lines(self.new)
        lines = difflib.unified_diff(
            old_lines,
            new_lines,
            "/dev/null" if self.old is None else f"a/{self.rel}",
            f"b/{self.rel}",
        )
        out = []
        for line in lines:
            if not line.endswith("\n"):
                line += "\n\\ No newline at end of file\n"
            out.append(line)
        return "".join(out)


def write_change(project: Project, change: Change) -> None:
    """Write ``change`` atomically, keeping the file's mode; only ever inside the project."""
    target = project.path(change.rel)
    data = change.original.encode(change.new)
    mode: Optional[int] = None
    if target.exists():
        mode = target.stat().st_mode & 0o7777
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".ez-pixel", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Pending:
    """Changes planned but not written: each edit of a file reads what the previous one left."""

    def __init__(self, project: Project) -> None:
        """Start with no changes."""
        self.project = project
        self._original: Dict[str, Tuple[Optional[Text], str]] = {}
        self._current: Dict[str, str] = {}
        self._reasons: Dict[str, List[str]] = {}

    def text(self, rel: str) -> Tuple[Optional[str], Optional[str]]:
        """``(current text, None)``; ``(None, None)`` for a missing file; ``(None, why)``."""
        if rel not in self._original:
            text, problem = read_text(self.project, rel)
            if text is None:
                if problem:
                    return None, problem
                self._original[rel] = (None, "")
            else:
                self._original[rel] = (text, text.text)
            self._current[rel] = self._original[rel][1]
        if self._original[rel][0] is None and not self._current[rel]:
            return None, None
        return self._current[rel], None

    def newline(self, rel: str) -> str:
        """The line ending of ``rel`` (``\\n`` for a new file)."""
        original = self._original.get(rel, (None, ""))[0]
        return original.newline if original is not None else "\n"

    def update(self, rel: str, new: str, reason: str) -> None:
        """Replace ``rel``'s planned text (read it with :meth:`text` first)."""
        if rel not in self._original:
            self.text(rel)
        self._current[rel] = new
        self._reasons.setdefault(rel, []).append(reason)

    def changes(self) -> List[Change]:
        """One :class:`Change` per file whose text differs, in the order first edited."""
        out = []
        for rel, reasons in self._reasons.items():
            original, old = self._original[rel]
            new = self._current[rel]
            if original is not None and new == old:
                continue
            kept = original if original is not None else Text("")
            out.append(Change(rel, None if original is None else old, new, kept, reasons))
        return out
