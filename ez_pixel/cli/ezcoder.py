"""``~/.ezcoder/projects.json``: where the ezcoder tools find the projects they may fix.

The file maps a project id to ``{"name", "path", "secret"}`` (the project's
checkout and its ``sk_`` bearer secret for the management API). The ezcoder
installer (``packages/pixel/src/install.ts``) and ``ez-pixel install`` both
write it, and the ``ezcoder pixel`` fix-queue runner reads nothing else, so
the format is exactly theirs. Writing it:

- merges with what is on disk right before the write: other projects' entries
  and any field this module does not know are kept as they are;
- never overwrites a file that is not a JSON object (it would lose every other
  project): that is reported instead;
- replaces the file atomically (a temporary file in the same folder, then
  ``os.replace``), readable by the user only (0600; the folder is created 0700),
  under an advisory lock where the platform has ``fcntl``.
"""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

FOLDER = ".ezcoder"
FILE = "projects.json"


class ProjectsFileError(Exception):
    """``projects.json`` cannot be read or written; the message says why."""


@dataclass
class Mapping:
    """One project's entry: its id, name, checkout path and bearer secret (may be empty)."""

    id: str
    name: str
    path: str
    secret: str


def projects_file(home: Optional[Path] = None) -> Path:
    """The path of ``projects.json`` under ``home`` (default: the user's home)."""
    if home is None:
        try:
            home = Path.home()
        except (RuntimeError, KeyError):  # no HOME and no password entry
            raise ProjectsFileError("cannot tell where the home folder is") from None
    return home / FOLDER / FILE


def _load(path: Path) -> Dict[str, Any]:
    """The file's object; empty when it does not exist; ProjectsFileError when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectsFileError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        raise ProjectsFileError(f"{path} is not valid JSON: left alone") from None
    if not isinstance(data, dict):
        raise ProjectsFileError(f"{path} is not a JSON object: left alone")
    return data


def read_projects(home: Optional[Path] = None) -> Dict[str, Any]:
    """Every entry of ``projects.json`` (empty when the file is missing)."""
    return _load(projects_file(home))


def _same_path(recorded: Any, root: Path) -> bool:
    if not isinstance(recorded, str) or not recorded:
        return False
    if recorded == str(root):
        return True
    try:
        return os.path.realpath(recorded) == os.path.realpath(str(root))
    except (OSError, ValueError):
        return False


def find_by_path(root: Path, home: Optional[Path] = None) -> Optional[Mapping]:
    """The entry for the checkout at ``root``; one with a secret first (as install.ts does)."""
    fallback: Optional[Mapping] = None
    for project_id, entry in read_projects(home).items():
        if not isinstance(entry, dict) or not _same_path(entry.get("path"), root):
            continue
        secret = entry.get("secret")
        mapping = Mapping(
            str(project_id),
            str(entry.get("name") or ""),
            str(entry["path"]),
            secret if isinstance(secret, str) else "",
        )
        if mapping.secret:
            return mapping
        fallback = fallback or mapping
    return fallback


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an advisory lock on ``folder`` itself (no file left behind; no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the write is still atomic
        yield
        return
    fd = os.open(str(folder), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def save_mapping(mapping: Mapping, home: Optional[Path] = None) -> Tuple[Path, List[str]]:
    """Add or update ``mapping``'s entry, keeping every other one; the file and the ids dropped.

    Older entries for the same checkout under another id are dropped: the
    project was registered again, and the ezcoder tools take the first entry
    they find for a path.
    """
    path = projects_file(home)
    folder = path.parent
    dropped: List[str] = []
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(folder):
            data = _load(path)
            for other in [k for k, v in data.items() if k != mapping.id and isinstance(v, dict)]:
                if _same_path(data[other].get("path"), Path(mapping.path)):
                    dropped.append(other)
                    del data[other]
            entry = data.get(mapping.id)
            entry = dict(entry) if isinstance(entry, dict) else {}
            entry.update(name=mapping.name, path=mapping.path)
            if mapping.secret:
                entry["secret"] = mapping.secret
            data[mapping.id] = entry
            _write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise ProjectsFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path, dropped


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600."""
    fd, temporary = tempfile.mkstemp(prefix=".projects-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp made it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, str(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
