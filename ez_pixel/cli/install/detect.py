"""What kind of project this is, where its entry points are, and why we think so.

The project's Python files (tests, virtualenvs, build output and hidden
directories skipped) are filtered by a cheap text search, then read with
``ast``: a kind is only reported from real imports and calls, never from a
word in a comment. Each :class:`Candidate` carries the reasons shown to the
user and the modules to wire, best first.
"""

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from .files import Project, Text, is_inside, read_text
from .pysource import (
    Module,
    calls,
    dotted,
    imported_modules,
    parse,
    string_value,
)

#: In the order a tie is broken (the first is the most likely).
KINDS = ("django", "fastapi", "flask", "celery", "plain")
LABELS = {
    "django": "Django",
    "fastapi": "FastAPI/Starlette",
    "flask": "Flask",
    "celery": "Celery",
    "plain": "plain Python (entry point)",
}
MAX_FILES = 5000
_SKIP_DIRS = {
    "node_modules",
    "site-packages",
    "__pycache__",
    "build",
    "dist",
    "venv",
    "env",
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "migrations",
}
_SKIP_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py"}
_WORDS = (
    "Flask",
    "create_app",
    "FastAPI",
    "Starlette",
    "Celery",
    "structlog",
    "__main__",
    "get_wsgi_application",
    "get_asgi_application",
    "DJANGO_SETTINGS_MODULE",
)


@dataclass
class Source:
    """One Python file: its text and tree (None when it cannot be parsed, see ``error``)."""

    rel: str
    text: Text
    module: Optional[Module]
    error: Optional[str] = None


class Sources:
    """The project's own Python files, read and parsed on first use."""

    def __init__(self, project: Project) -> None:
        """List the files; nothing is read yet."""
        self.project = project
        self.rels: List[str] = []
        self.notes: List[str] = []
        self._cache: Dict[str, Optional[Source]] = {}
        self._walk()

    def _walk(self) -> None:
        root = str(self.project.root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                name
                for name in dirnames
                if not name.startswith(".")
                and name not in _SKIP_DIRS
                and not name.endswith(".egg-info")
                and not os.path.exists(os.path.join(dirpath, name, "pyvenv.cfg"))
            )
            for name in sorted(filenames):
                if not name.endswith(".py") or name in _SKIP_FILES:
                    continue
                if name.startswith("test_") or name.endswith("_test.py"):
                    continue
                path = Path(dirpath) / name
                if path.is_symlink() and not is_inside(self.project.root, path.resolve()):
                    self.notes.append(
                        f"{self.project.rel(path)} is a symlink outside the project: not read"
                    )
                    continue
                self.rels.append(self.project.rel(path))
                if len(self.rels) >= MAX_FILES:
                    self.notes.append(f"more than {MAX_FILES} Python files: read the first ones")
                    return

    def get(self, rel: str) -> Optional[Source]:
        """The file ``rel``, parsed; None when it cannot be read."""
        if rel not in self._cache:
            text, problem = read_text(self.project, rel)
            if text is None:
                if problem:
                    self.notes.append(problem)
                self._cache[rel] = None
            else:
                tree, error = parse(text.text, rel)
                module = Module(text.text, tree) if tree is not None else None
                self._cache[rel] = Source(rel, text, module, error)
        return self._cache[rel]

    def mentioning(self, words: Iterable[str]) -> Iterable[Source]:
        """Files whose text contains one of ``words`` (parsed or not)."""
        wanted = tuple(words)
        for rel in self.rels:
            source = self.get(rel)
            if source is not None and any(word in source.text.text for word in wanted):
                yield source


@dataclass
class Candidate:
    """A kind of project found, why, and the modules to wire (best first)."""

    kind: str
    score: int
    reasons: List[str] = field(default_factory=list)
    targets: List[str] = field(default_factory=list)
    settings: Optional[str] = None

    @property
    def label(self) -> str:
        """The kind, for people."""
        return LABELS[self.kind]


@dataclass
class Detection:
    """Everything :func:`detect` found."""

    candidates: List[Candidate]
    structlog: List[str] = field(default_factory=list)
    structlog_modules: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def frameworks(self) -> List[Candidate]:
        """The candidates other than ``plain``, most likely first."""
        return [c for c in self.candidates if c.kind != "plain"]


def module_name(rel: str) -> str:
    """``src/pkg/cli.py`` -> ``pkg.cli``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = list(Path(rel).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def module_file(project: Project, name: str, base: str = "") -> Optional[str]:
    """The file of module ``name`` under ``base`` or ``base/src``, if it is in the project."""
    path = name.replace(".", "/")
    for prefix in (base, f"{base}/src" if base else "src"):
        lead = f"{prefix}/" if prefix else ""
        for rel in (f"{lead}{path}.py", f"{lead}{path}/__init__.py"):
            if project.exists(rel):
                return rel
    return None


def _resolved_imports(source: Source) -> Set[str]:
    """Absolute names of the modules ``source`` imports, relative imports resolved."""
    assert source.module is not None
    found = imported_modules(source.module.tree)
    package = module_name(source.rel).split(".")
    if not source.rel.endswith("__init__.py"):
        package = package[:-1]
    for node in ast.walk(source.module.tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            prefix = ".".join(base)
            if node.module:
                found.add(f"{prefix}.{node.module}" if prefix else node.module)
            for alias in node.names:
                stem = f"{prefix}.{node.module}" if node.module else prefix
                found.add(f"{stem}.{alias.name}" if stem else alias.name)
    return found


def _has_main_guard(tree: ast.Module) -> bool:
    for statement in tree.body:
        if isinstance(statement, ast.If) and isinstance(statement.test, ast.Compare):
            names = {dotted(statement.test.left)} | {
                string_value(c) or dotted(c) for c in statement.test.comparators
            }
            if names >= {"__name__", "__main__"}:
                return True
    return False


def _add(found: Dict[str, Candidate], kind: str, score: int, reason: str, rel: str) -> None:
    candidate = found.setdefault(kind, Candidate(kind, 0))
    candidate.reasons.append(reason)
    candidate.targets.append(rel)
    candidate.score = max(candidate.score, score)
    rank = {target: n for n, target in enumerate(candidate.targets)}
    candidate.targets.sort(key=lambda t: (t.count("/"), rank[t]))


def _django(project: Project, sources: Sources, found: Dict[str, Candidate]) -> None:
    manages = [rel for rel in sources.rels if Path(rel).name == "manage.py" and rel.count("/") <= 2]
    for rel in sorted(manages, key=lambda r: r.count("/")):
        source = sources.get(rel)
        if source is None or source.module is None:
            continue
        settings = None
        for call in calls(source.module.tree, {"setdefault"}):
            args = [string_value(arg) for arg in call.args]
            if len(args) == 2 and args[0] == "DJANGO_SETTINGS_MODULE" and args[1]:
                settings = args[1]
        if settings is None:
            continue
        parent = Path(rel).parent.as_posix()
        settings_rel = module_file(project, settings, "" if parent == "." else parent)
        candidate = Candidate("django", 100, settings=settings_rel)
        where = settings_rel or "not found in the project"
        candidate.reasons.append(f"{rel} sets DJANGO_SETTINGS_MODULE={settings} ({where})")
        for entry in sources.mentioning(("get_wsgi_application", "get_asgi_application")):
            if entry.module is None:
                continue
            made = list(calls(entry.module.tree, {"get_wsgi_application", "get_asgi_application"}))
            if made:
                candidate.targets.append(entry.rel)
        candidate.targets.sort()
        found["django"] = candidate
        return


def _frameworks(source: Source, found: Dict[str, Candidate]) -> None:
    assert source.module is not None
    tree = source.module.tree
    imports = imported_modules(tree)
    rel = source.rel
    if "flask" in imports:
        factory = any(
            isinstance(node, ast.FunctionDef) and node.name == "create_app" for node in tree.body
        )
        if factory:
            _add(found, "flask", 85, f"{rel} defines the app factory create_app()", rel)
        elif any(calls(tree, {"Flask"})):
            _add(found, "flask", 80, f"{rel} creates the app: Flask(...)", rel)
    if imports & {"fastapi", "starlette"}:
        for call in calls(tree, {"FastAPI", "Starlette"}):
            name = dotted(call.func).split(".")[-1]
            _add(found, "fastapi", 80, f"{rel} creates the app: {name}(...)", rel)
            break
    if "celery" in imports and any(calls(tree, {"Celery"})):
        _add(found, "celery", 60, f"{rel} creates the Celery app: Celery(...)", rel)


def _structlog(source: Source, detection: Detection) -> None:
    assert source.module is not None
    tree = source.module.tree
    if "structlog" not in imported_modules(tree):
        return
    detection.structlog.append(f"{source.rel} imports structlog")
    imported_configure = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "structlog"
        and any(alias.name in ("configure", "configure_once") for alias in node.names)
        for node in ast.walk(tree)
    )
    for call in calls(tree, {"configure", "configure_once"}):
        name = dotted(call.func)
        if name in ("structlog.configure", "structlog.configure_once") or (
            imported_configure and name in ("configure", "configure_once")
        ):
            detection.structlog_modules.append(source.rel)
            return


def _plain(
    project: Project,
    sources: Sources,
    scripts: List[Tuple[str, str]],
    found: Dict[str, Candidate],
) -> None:
    script_modules: Set[str] = set()
    for name, target in scripts:
        module = target.split(":")[0].strip()
        rel = module_file(project, module)
        if rel is None:
            continue
        script_modules.add(module)
        _add(found, "plain", 20, f"console script {name} = {target} ({rel})", rel)
    for rel in sources.rels:
        source = None
        if Path(rel).name == "__main__.py":
            source = sources.get(rel)
        if source is None or source.module is None:
            continue
        if _resolved_imports(source) & script_modules:
            continue
        _add(found, "plain", 20, f"{rel} runs the package (python -m)", rel)
    if "plain" in found:
        return
    for rel in sources.rels:
        if "/" in rel or rel == "manage.py":
            continue
        source = sources.get(rel)
        if source is not None and source.module is not None and _has_main_guard(source.module.tree):
            _add(found, "plain", 10, f'{rel} is a script (if __name__ == "__main__")', rel)


def detect(project: Project, sources: Sources, scripts: List[Tuple[str, str]]) -> Detection:
    """Find every kind the project could be, with reasons; most likely first."""
    found: Dict[str, Candidate] = {}
    detection = Detection([])
    _django(project, sources, found)
    for source in sources.mentioning(_WORDS):
        if source.module is None:
            detection.problems.append(source.error or f"{source.rel}: cannot parse it")
            continue
        _frameworks(source, found)
        _structlog(source, detection)
    _plain(project, sources, scripts, found)
    order = {kind: n for n, kind in enumerate(KINDS)}
    detection.candidates = sorted(found.values(), key=lambda c: (-c.score, order[c.kind]))
    return detection
