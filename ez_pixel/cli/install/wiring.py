"""The code ``install`` adds for each kind of project, and where.

One idiom everywhere, after the module's imports::

    import ez_pixel

    try:  # ez-pixel: report errors; configured by PIXEL_PROJECT_KEY and PIXEL_INGEST_URL
        ez_pixel.init_pixel()
    except RuntimeError:  # already initialised: this module was imported twice
        pass
    except ValueError as exc:  # key or URL missing or malformed: run without reporting
        import warnings

        warnings.warn(str(exc), stacklevel=1)

It never crashes the app (no key: one warning, and the app runs unreported),
tolerates a second import (``python app.py`` then ``import app``), and reads
its configuration from the environment only. The same lines serve every kind:
``init_pixel`` itself reports what uvicorn, gunicorn and Celery log where the
root logger cannot see it (:mod:`ez_pixel._process.integrations`); for Celery it has to
run after ``import celery``, which "after the module's imports" guarantees in
the module that creates the Celery app.

Django gets the idiom in ``wsgi.py``/``asgi.py`` and a ``PixelHandler`` in
``LOGGING`` (merged into an existing dict literal, or a new minimal one), so
management commands report too. structlog gets ``PixelProcessor()`` in its
processor chain, before the exception formatter and the renderer.
"""

import ast
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .containers import append_element, insert_before, quote_char
from .files import Pending
from .pysource import (
    Module,
    calls,
    calls_init_pixel,
    dotted,
    import_line_after,
    insert_after_imports,
    keyword,
    last_name,
    module_assignments,
    name_uses,
    parse,
    string_value,
    top_level_import,
)

HANDLER_CLASS = "ez_pixel.PixelHandler"
PROCESSOR_IMPORT = "from ez_pixel.structlog import PixelProcessor"

#: structlog processors PixelProcessor must come before: they consume
#: ``exc_info`` or render the event dict.
_BEFORE = {
    "PositionalArgumentsFormatter",  # events group by the unformatted message
    "format_exc_info",
    "dict_tracebacks",
    "ExceptionRenderer",
    "ExceptionPrettyPrinter",
    "wrap_for_formatter",
    "render_to_log_kwargs",
    "render_to_log_args_and_kwargs",
}


@dataclass
class Step:
    """What one step did: planned a change, found it done, or left it to the user.

    ``manual`` steps are left for the user (``install`` exits 1); ``warning``
    only draws attention.
    """

    message: str
    changed: bool = False
    manual: bool = False
    snippet: Optional[str] = None
    warning: bool = False

    @property
    def mark(self) -> str:
        """``+`` a change, ``!`` attention needed, ``=`` nothing to do."""
        if self.manual or self.warning:
            return "!"
        return "+" if self.changed else "="


def init_block(has_ez_pixel: bool = False) -> List[str]:
    """The lines added after a module's imports (the idiom in the module docstring)."""
    lines = [] if has_ez_pixel else ["import ez_pixel", ""]
    return [
        *lines,
        "try:  # ez-pixel: report errors; configured by PIXEL_PROJECT_KEY and PIXEL_INGEST_URL",
        "    ez_pixel.init_pixel()",
        "except RuntimeError:  # already initialised: this module was imported twice",
        "    pass",
        "except ValueError as exc:  # key or URL missing or malformed: run without reporting",
        "    import warnings",
        "",
        "    warnings.warn(str(exc), stacklevel=1)",
    ]


def _module(pending: Pending, rel: str) -> Tuple[Optional[Module], Optional[Step]]:
    text, problem = pending.text(rel)
    if text is None:
        return None, Step(problem or f"{rel} is missing", manual=True)
    tree, error = parse(text, rel)
    if tree is None:
        return None, Step(error or f"{rel}: cannot parse it: left alone", manual=True)
    return Module(text, tree), None


def wire_init(pending: Pending, rel: str, why: str) -> Step:
    """Add the init idiom to module ``rel`` (``why`` says what the module is)."""
    module, failed = _module(pending, rel)
    if module is None:
        assert failed is not None
        failed.snippet = "\n".join(init_block())
        return failed
    if calls_init_pixel(module.tree):
        return Step(f"{rel} already calls ez_pixel.init_pixel()")
    block = init_block(has_ez_pixel=top_level_import(module.tree, "ez_pixel"))
    new = insert_after_imports(module, block, pending.newline(rel))
    message = f"{rel}: call ez_pixel.init_pixel() after the imports ({why})"
    pending.update(rel, new, message)
    return Step(message, changed=True)


# -- Django LOGGING ------------------------------------------------------------------


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


def _keys(node: ast.Dict) -> Optional[Dict[str, ast.expr]]:
    """A dict literal's entries by string key; None if a key is not a string literal."""
    out: Dict[str, ast.expr] = {}
    for key, value in zip(node.keys, node.values):
        name = string_value(key)
        if name is None:
            return None
        out[name] = value
    return out


class _TooComplex(Exception):
    pass


def _next_logging_edit(module: Module, node: ast.Dict, newline: str) -> Optional[str]:
    """The text with the next missing piece of the pixel handler added, or None when complete."""
    top = _keys(node)
    if top is None:
        raise _TooComplex
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
    if not isinstance(handlers, ast.Dict):
        raise _TooComplex
    named = _keys(handlers)
    if named is None:
        raise _TooComplex
    name = "pixel" if "pixel" not in named or _is_ours(named["pixel"]) else "ez_pixel"
    if name not in named:
        return add(handlers, _handler_entry(name, q))
    loggers = top.get("loggers")
    logger_map = _keys(loggers) if isinstance(loggers, ast.Dict) else {}
    if logger_map is None:
        raise _TooComplex
    root = top.get("root", logger_map.get(""))
    if root is None:
        return add(node, f"{q}root{q}: {{{q}handlers{q}: [{q}{name}{q}]}}")
    targets: List[ast.expr] = [root]
    for logger in logger_map.values():
        settings = _keys(logger) if isinstance(logger, ast.Dict) else None
        if settings is None:
            raise _TooComplex
        propagate = settings.get("propagate")
        if isinstance(propagate, ast.Constant) and propagate.value is False:
            targets.append(logger)
    for target in targets:
        settings = _keys(target) if isinstance(target, ast.Dict) else None
        if settings is None:
            raise _TooComplex
        listed = settings.get("handlers")
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
    module, _ = _module(pending, rel)
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
    module, failed = _module(pending, settings)
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


# -- structlog -----------------------------------------------------------------------


def _processor_target(items: Sequence[ast.expr]) -> Optional[int]:
    """Index of the processor PixelProcessor goes before: the exception formatter or renderer."""
    for index, item in enumerate(items):
        callee = item.func if isinstance(item, ast.Call) else item
        name = last_name(callee)
        if name in _BEFORE or (name.endswith("Renderer") and name != "StackInfoRenderer"):
            return index
    return len(items) - 1 if items else None


def _processors(module: Module, call: ast.Call) -> Optional[ast.List]:
    value = keyword(call, "processors")
    if isinstance(value, ast.Name):
        lists = [
            node.value
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
        ]
        value = lists[0] if len(lists) == 1 else None
    return value if isinstance(value, ast.List) else None


def _configure_calls(tree: ast.AST) -> List[ast.Call]:
    return [
        call
        for call in calls(tree, {"configure", "configure_once"})
        if dotted(call.func).split(".")[-1] in ("configure", "configure_once")
        and keyword(call, "processors") is not None
    ]


def wire_structlog(pending: Pending, rel: str) -> Step:
    """Insert ``PixelProcessor()`` in each ``structlog.configure(processors=[...])`` of ``rel``."""
    module, failed = _module(pending, rel)
    hint = f"add PixelProcessor() ({PROCESSOR_IMPORT}) before the renderer"
    if module is None:
        assert failed is not None
        failed.message += f"; {hint}"
        return failed
    text = module.text
    newline = pending.newline(rel)
    inserted = 0
    for index in range(len(_configure_calls(module.tree))):
        tree, _error = parse(text, rel)
        if tree is None:
            break
        current = Module(text, tree)
        call = _configure_calls(tree)[index]
        processors = _processors(current, call)
        if processors is None:
            return Step(f"{rel}: the processors are not a list literal: {hint}", manual=True)
        names = [last_name(item.func) for item in processors.elts if isinstance(item, ast.Call)]
        if "PixelProcessor" in names:
            continue
        target = _processor_target(processors.elts)
        if target is None:
            return Step(f"{rel}: the processor list is empty: {hint}", manual=True)
        span = current.span(processors.elts[target])
        text = insert_before(text, span, "PixelProcessor()", newline)
        inserted += 1
    if not inserted:
        return Step(f"{rel}: structlog already runs PixelProcessor()")
    tree, _error = parse(text, rel)
    assert tree is not None
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "ez_pixel.structlog"
        and any(alias.name == "PixelProcessor" for alias in node.names)
        for node in tree.body
    )
    if not imported:
        text = import_line_after(Module(text, tree), PROCESSOR_IMPORT, newline)
    message = f"{rel}: add PixelProcessor() to the structlog processors, before the renderer"
    pending.update(rel, text, message)
    return Step(message, changed=True)
