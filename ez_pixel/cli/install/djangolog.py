"""Django's ``LOGGING``: a ``PixelHandler`` on the root logger and non-propagating loggers.

Merged into an existing dict literal in the settings (or in the module they
star-import), one missing piece at a time, in the file's own quotes and
layout; a new minimal ``LOGGING`` when there is none; left alone, with the
snippet to paste, when it is built in a way that cannot be edited safely.
"""

import ast
from typing import Dict, List, Optional, Tuple

from .containers import append_element, quote_char
from .files import Pending
from .pysource import Module, module_assignments, name_uses, parse, string_value
from .wiring import HANDLER_CLASS, Step, module_of


def _logging_snippet(quote: str = '"') -> str:
    q = quote
    return "\n".join(
        [
            "LOGGING = {",
            f"    {q}version{q}: 1,",
            f"    {q}disable_existing_loggers{q}: False,",
            f"    {q}handlers{q}: {{{_handler_entry('pixel', q)}}},",
            f"    {q}root{q}: {{{q}handlers{q}: [{q}pixel{q}]}},",
            "}",
        ]
    )


def _handler_entry(name: str, q: str) -> str:
    return f"{q}{name}{q}: {{{q}class{q}: {q}{HANDLER_CLASS}{q}, {q}level{q}: {q}ERROR{q}}}"


class _TooComplex(Exception):
    pass


def _entries(node: Optional[ast.expr]) -> Dict[str, ast.expr]:
    """A dict literal's entries by string key; _TooComplex for anything else."""
    if not isinstance(node, ast.Dict):
        raise _TooComplex
    out: Dict[str, ast.expr] = {}
    for key, value in zip(node.keys, node.values):
        name = string_value(key)
        if name is None:
            raise _TooComplex
        out[name] = value
    return out


def _next_logging_edit(module: Module, node: ast.Dict, newline: str) -> Optional[str]:
    """The text with the next missing piece of the pixel handler added, or None when complete."""
    top = _entries(node)
    spans = module.elements(node) or []
    q = quote_char(module.text, [(s, s + 1) for s, _ in spans])

    def add(container: ast.expr, element: str) -> str:
        if not isinstance(container, (ast.Dict, ast.List)):
            raise _TooComplex
        elements = module.elements(container)
        if elements is None:
            raise _TooComplex
        opening, closing = module.brackets(container)
        new = append_element(module.text, opening, closing, elements, element, newline)
        if new is None:
            raise _TooComplex
        return new

    handlers = top.get("handlers")
    if handlers is None:
        return add(node, f"{q}handlers{q}: {{{_handler_entry('pixel', q)}}}")
    named = _entries(handlers)
    name = "pixel" if "pixel" not in named or _is_ours(named["pixel"]) else "ez_pixel"
    if name not in named:
        return add(handlers, _handler_entry(name, q))
    loggers = top.get("loggers")
    logger_map = _entries(loggers) if isinstance(loggers, ast.Dict) else {}
    root = top.get("root", logger_map.get(""))
    if root is None:
        return add(node, f"{q}root{q}: {{{q}handlers{q}: [{q}{name}{q}]}}")
    targets: List[ast.expr] = [root]
    for logger in logger_map.values():
        propagate = _entries(logger).get("propagate")
        if isinstance(propagate, ast.Constant) and propagate.value is False:
            targets.append(logger)
    for target in targets:
        listed = _entries(target).get("handlers")
        if listed is None:
            return add(target, f"{q}handlers{q}: [{q}{name}{q}]")
        if not isinstance(listed, ast.List):
            raise _TooComplex
        if name not in [string_value(item) for item in listed.elts]:
            return add(listed, f"{q}{name}{q}")
    return None


def _mentions_logging(tree: ast.Module) -> bool:
    """True when ``LOGGING`` is used or imported anywhere, not only assigned at top level."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "LOGGING":
            return True
        if isinstance(node, ast.alias) and "LOGGING" in (node.name, node.asname):
            return True
    return False


def _is_ours(node: ast.expr) -> bool:
    return isinstance(node, ast.Dict) and HANDLER_CLASS in [string_value(v) for v in node.values]


def _star_imports(module: Module, rel: str) -> List[str]:
    """Modules ``from X import *`` names, as dotted names relative to ``rel``'s package."""
    package = rel.rsplit("/", 1)[0].replace("/", ".") if "/" in rel else ""
    out = []
    for statement in module.tree.body:
        if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
            if statement.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (statement.level - 1)]
                out.append(".".join([*parts, statement.module or ""]).strip("."))
            elif statement.module:
                out.append(statement.module)
    return out


def _logging_homes(pending: Pending, rel: str, depth: int = 0) -> List[Tuple[str, Module]]:
    """The modules (``rel`` or what it star-imports) that assign ``LOGGING``."""
    module, _ = module_of(pending, rel)
    if module is None or depth > 3:
        return []
    if module_assignments(module.tree, "LOGGING"):
        return [(rel, module)]
    found: List[Tuple[str, Module]] = []
    for name in _star_imports(module, rel):
        path = name.replace(".", "/")
        for candidate in (f"{path}.py", f"{path}/__init__.py"):
            if pending.project.exists(candidate):
                found.extend(_logging_homes(pending, candidate, depth + 1))
                break
    return found


def wire_django_logging(pending: Pending, settings: str) -> Step:
    """Add a ``PixelHandler`` to ``LOGGING`` in the settings (or what they star-import)."""
    module, failed = module_of(pending, settings)
    if module is None:
        assert failed is not None
        failed.snippet = _logging_snippet()
        return failed
    manual = Step(
        f"{settings}: LOGGING is too complex to edit safely: left alone; add the "
        f"{HANDLER_CLASS} handler to it and to the root logger yourself",
        manual=True,
        snippet=_logging_snippet(),
    )
    if module_assignments(module.tree, "LOGGING_CONFIG"):
        return manual
    homes = _logging_homes(pending, settings)
    newline = pending.newline(settings)
    if not homes and _mentions_logging(module.tree):
        return manual  # assigned in a branch, imported, or built elsewhere
    if not homes:
        text = module.text
        if text and not text.endswith("\n"):
            text += newline
        comment = "# ez-pixel: report errors logged anywhere (PIXEL_PROJECT_KEY, PIXEL_INGEST_URL)"
        block = [comment, *_logging_snippet().split("\n")]
        new = text + newline + newline.join(block) + newline
        message = f"{settings}: add a LOGGING with the {HANDLER_CLASS} handler on the root logger"
        pending.update(settings, new, message)
        return Step(message, changed=True)
    if len(homes) > 1:
        return manual
    rel, module = homes[0]
    if HANDLER_CLASS in module.text:
        return Step(f"{rel}: LOGGING already has the {HANDLER_CLASS} handler")
    assigned = module_assignments(module.tree, "LOGGING")
    if len(assigned) != 1 or name_uses(module.tree, "LOGGING") != 1:
        manual.message = manual.message.replace(settings, rel)
        return manual
    text = module.text
    newline = pending.newline(rel)
    for _ in range(20):
        tree, _error = parse(text, rel)
        if tree is None:
            break
        current = Module(text, tree)
        node = module_assignments(tree, "LOGGING")[0].value
        if not isinstance(node, ast.Dict):
            break
        try:
            edited = _next_logging_edit(current, node, newline)
        except _TooComplex:
            break
        if edited is None:
            message = f"{rel}: add the {HANDLER_CLASS} handler to LOGGING (root logger)"
            pending.update(rel, text, message)
            return Step(message, changed=True)
        text = edited
    manual.message = manual.message.replace(settings, rel)
    return manual
