"""The project's own dependency list: which file holds it, and what it names.

Where the dependency goes, first match wins: ``pyproject.toml`` ``[project]
dependencies`` (PEP 621: hatch, setuptools, flit, PDM, uv, Poetry 2), Poetry's
``[tool.poetry.dependencies]``, ``setup.cfg`` ``[options] install_requires``,
``setup.py`` ``install_requires=[...]``, then a ``requirements*.txt`` (the
``.in`` file behind a pip-compile output). :mod:`.depedit` writes the
edit; this module only reads.
"""

import ast
import configparser
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Set, Tuple

from . import tomlscan
from .containers import quoted
from .files import Project, Text, read_text
from .pysource import Module, keyword, last_name, module_assignments, parse, string_value

PACKAGE = "ez-pixel"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SKIP_REQUIREMENTS = ("dev", "test", "lint", "doc", "ci", "type", "local")


def normalize(name: str) -> str:
    """A distribution name in PEP 503 normal form (``EZ_Pixel`` -> ``ez-pixel``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> Optional[str]:
    """The normalized project name a requirement line names, or None (options, URLs, blanks)."""
    match = _NAME.match(spec)
    if not match or spec.lstrip().startswith(("-", "#")):
        return None
    return normalize(match.group(1))


@dataclass(frozen=True)
class Requirement:
    """``ez-pixel`` with its extras and lower bound, written in each format."""

    extras: Tuple[str, ...] = ()
    minimum: str = "0.2"

    def pep508(self) -> str:
        """``ez-pixel[structlog]>=0.2``."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{PACKAGE}{extras}>={self.minimum}"

    def poetry(self, quote: str) -> str:
        """Poetry's ``ez-pixel = ">=0.2"`` line (an inline table when there are extras)."""
        version = quoted(f">={self.minimum}", quote)
        if not self.extras:
            return f"{PACKAGE} = {version}"
        extras = ", ".join(quoted(extra, quote) for extra in self.extras)
        return f"{PACKAGE} = {{version = {version}, extras = [{extras}]}}"


@dataclass
class Packaging:
    """What the project is packaged with, and where its dependencies are listed."""

    target: str = ""
    rel: str = ""
    label: str = "no dependency list found"
    names: Set[str] = field(default_factory=set)
    project_name: Optional[str] = None
    scripts: List[Tuple[str, str]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    lock_hint: Optional[str] = None


def _pyproject(project: Project, found: Packaging) -> Optional[tomlscan.Document]:
    text = _read(project, "pyproject.toml", found)
    if text is None:
        return None
    try:
        return tomlscan.scan(text.text)
    except tomlscan.TomlError as exc:
        found.notes.append(f"pyproject.toml: cannot read it ({exc}): left alone")
        return None


def _setup_cfg(project: Project, found: Packaging) -> Optional[configparser.ConfigParser]:
    text = _read(project, "setup.cfg", found)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text.text)
    except configparser.Error as exc:
        found.notes.append(f"setup.cfg: cannot read it ({exc.message}): left alone")
        return None
    return parser


def _read(project: Project, rel: str, found: Packaging) -> Optional[Text]:
    """The file's text (None when absent); a problem reading it becomes a note."""
    text, problem = read_text(project, rel)
    if problem:
        found.notes.append(problem)
    return text


def lists_package(specs: Iterable[str]) -> bool:
    """True when these requirement specs (or lines) already name ``ez-pixel``."""
    return PACKAGE in {name for name in map(requirement_name, specs) if name}


def setup_call(tree: ast.AST) -> Optional[ast.Call]:
    """The ``setup(...)`` call in a ``setup.py``, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and last_name(node.func) == "setup":
            return node
    return None


def _cfg_list(value: str) -> List[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _setup_call(project: Project, found: Packaging) -> Optional[Tuple[Module, ast.Call]]:
    text = _read(project, "setup.py", found)
    if text is None:
        return None
    tree, error = parse(text.text, "setup.py")
    if tree is None:
        found.notes.append(error or "setup.py: cannot parse it")
        return None
    call = setup_call(tree)
    return None if call is None else (Module(text.text, tree), call)


def setup_list(module: Module, call: ast.Call, name: str) -> Optional[ast.List]:
    """The list literal passed as ``name=`` (directly or through a module-level variable)."""
    value = keyword(call, name)
    if isinstance(value, ast.Name):
        assigned = module_assignments(module.tree, value.id)
        value = assigned[0].value if len(assigned) == 1 else None
    return value if isinstance(value, ast.List) else None


def requirement_files(project: Project) -> List[str]:
    """``requirements*.txt`` (and ``requirements/*.txt``) files, the likely runtime one first."""
    found: List[str] = []
    for pattern in ("requirements*.txt", "requirements/*.txt"):
        found.extend(project.rel(path) for path in sorted(project.root.glob(pattern)))

    def rank(rel: str) -> Tuple[int, int, str]:
        stem = Path(rel).stem.lower()
        runtime = not any(word in stem for word in _SKIP_REQUIREMENTS)
        main = stem in ("requirements", "base", "main", "prod", "production", "common")
        return (0 if runtime else 1, 0 if main else 1, rel)

    return sorted((rel for rel in found if project.exists(rel)), key=rank)


def _requirement_names(project: Project, rel: str) -> Set[str]:
    text, _ = read_text(project, rel)
    if text is None:
        return set()
    names = (requirement_name(line) for line in text.text.splitlines())
    return {name for name in names if name}


def find_packaging(project: Project) -> Packaging:
    """Read every packaging file at the root; choose where ``ez-pixel`` goes."""
    found = Packaging()
    choices: List[Tuple[str, str, str]] = []  # (target, rel, label)
    doc = _pyproject(project, found)
    requirements = requirement_files(project)
    if doc is not None:
        pep621 = doc.get(("project",), ("dependencies",))
        dynamic = doc.get(("project",), ("dynamic",))
        name = doc.get(("project",), ("name",)) or doc.get(("tool", "poetry"), ("name",))
        found.project_name = name.string if name else None
        if pep621 is not None:
            found.names.update(filter(None, map(requirement_name, pep621.strings)))
        found.names.update(normalize(key) for key in doc.table(("tool", "poetry", "dependencies")))
        for table in (("project", "scripts"), ("tool", "poetry", "scripts")):
            for script, value in doc.table(table).items():
                if value.string:
                    found.scripts.append((script, value.string))
        uv = project.exists("uv.lock")
        is_dynamic = dynamic is not None and "dependencies" in dynamic.strings
        if pep621 is not None and pep621.kind == "array":
            label = "pyproject.toml [project] dependencies (PEP 621"
            label += ", with uv.lock: uv)" if uv else ")"
            choices.append(("pep621", "pyproject.toml", label))
        elif doc.header(("tool", "poetry", "dependencies")) is not None:
            choices.append(
                ("poetry", "pyproject.toml", "pyproject.toml [tool.poetry.dependencies] (Poetry)")
            )
        elif is_dynamic:
            files = doc.get(("tool", "setuptools", "dynamic"), ("dependencies",))
            listed = files.entries.get("file") if files is not None else None
            for rel in (listed.strings if listed is not None else [])[:1]:
                label = f"{rel} (pyproject.toml reads dependencies from it)"
                choices.append(("requirements", rel, label))
        elif doc.header(("project",)) is not None and not requirements:
            label = "pyproject.toml [project] (PEP 621, no dependencies yet)"
            choices.append(("pep621-new", "pyproject.toml", label))
        for lock, tool in (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm")):
            if project.exists(lock):
                found.lock_hint = f"then run `{tool} lock` to update {lock}"
                break
    cfg = _setup_cfg(project, found)
    if cfg is not None:
        if cfg.has_option("options", "install_requires"):
            requires = _cfg_list(cfg.get("options", "install_requires"))
            found.names.update(filter(None, map(requirement_name, requires)))
            label = "setup.cfg [options] install_requires"
            choices.append(("setup.cfg", "setup.cfg", label))
        if cfg.has_option("options.entry_points", "console_scripts"):
            for line in _cfg_list(cfg.get("options.entry_points", "console_scripts")):
                script, _, target = line.partition("=")
                found.scripts.append((script.strip(), target.strip()))
        if found.project_name is None and cfg.has_option("metadata", "name"):
            found.project_name = cfg.get("metadata", "name").strip() or None
    setup = _setup_call(project, found)
    if setup is not None:
        module, call = setup
        requires_list = setup_list(module, call, "install_requires")
        if requires_list is not None:
            strings = [string_value(item) or "" for item in requires_list.elts]
            found.names.update(filter(None, map(requirement_name, strings)))
            choices.append(("setup.py", "setup.py", "setup.py install_requires=[...]"))
        elif keyword(call, "install_requires") is not None:
            found.notes.append("setup.py: install_requires is not a list literal: left alone")
        if found.project_name is None:
            found.project_name = string_value(keyword(call, "name"))
        _setup_py_scripts(module, call, found.scripts)
    for rel in requirements:
        found.names.update(_requirement_names(project, rel))
    if requirements:
        label = f"{requirements[0]} (pip requirements)"
        choices.append(("requirements", requirements[0], label))
    if choices:
        found.target, found.rel, found.label = choices[0]
        others = sorted({rel for _, rel, _ in choices[1:] if rel != found.rel})
        for rel in others:
            found.notes.append(f"{rel} also lists dependencies: not edited")
    return found


def _setup_py_scripts(module: Module, call: ast.Call, into: List[Tuple[str, str]]) -> None:
    entry_points = keyword(call, "entry_points")
    if not isinstance(entry_points, ast.Dict):
        return
    for key, value in zip(entry_points.keys, entry_points.values):
        if string_value(key) != "console_scripts" or not isinstance(value, (ast.List, ast.Tuple)):
            continue
        for item in value.elts:
            line = string_value(item) or ""
            name, _, target = line.partition("=")
            if target:
                into.append((name.strip(), target.strip()))
