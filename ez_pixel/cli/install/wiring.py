"""The code ``install`` adds for each kind of project, and where.

One idiom everywhere::

    import ez_pixel

    try:  # ez-pixel: report errors; key from EZCODER_PIXEL_KEY (environment or .env)
        ez_pixel.init_pixel()
    except (RuntimeError, ValueError):  # no key here (tests, CI, a fresh checkout)
        pass

It never breaks the app: where no key is configured (the project's own test
suite, its CI, another developer's machine) it does nothing, silently (no
``warnings.warn``: suites running with ``filterwarnings = error`` would fail
at import). ``init_pixel`` reads the key from the environment, then from the
project's ``.env``, so the app reports when started the usual way. A second
import (``python app.py`` then ``import app``) is a no-op. It goes after the
module's imports: ``init_pixel`` itself reports what uvicorn, gunicorn and
Celery log where the root logger cannot see it
(:mod:`ez_pixel._process.integrations`); for Celery it has to run after
``import celery``, which "after the module's imports" guarantees.

Django gets the idiom in ``wsgi.py``/``asgi.py`` *after* the
``get_wsgi_application()``/``get_asgi_application()`` line (with ``import
ez_pixel`` among the imports): that call runs ``django.setup()``, whose
``dictConfig(LOGGING)`` replaces the root logger's handlers, so ``init_pixel``
comes after it (under ``runserver`` setup even runs twice). Django also gets a
``PixelHandler`` in ``LOGGING`` (merged into an existing dict literal, or a
new minimal one), so management commands report too. structlog gets
``PixelProcessor()`` in its processor chain, before the exception formatter
and the renderer; FastAPI/Starlette a lifespan that flushes
(:mod:`.lifespan`).
"""

import ast
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from .containers import insert_before
from .files import Pending
from .pysource import (
    Module,
    calls,
    calls_init_pixel,
    dotted,
    import_line_after,
    imported_modules,
    insert_after_imports,
    insert_block_after,
    keyword,
    last_name,
    parse,
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


#: The module the ezcoder installer writes and imports from the entry point; it calls init_pixel.
EZCODER_INIT_MODULE = "ez_pixel_init"
#: ``get_*_application()`` calls that run ``django.setup()``: Django's init goes after them.
DJANGO_APPLICATION_CALLS = {"get_wsgi_application", "get_asgi_application"}


def init_block(has_ez_pixel: bool = False) -> List[str]:
    """The lines added to a module (the idiom in the module docstring)."""
    lines = [] if has_ez_pixel else ["import ez_pixel", ""]
    return [
        *lines,
        "try:  # ez-pixel: report errors; key from EZCODER_PIXEL_KEY (environment or .env)",
        "    ez_pixel.init_pixel()",
        "except (RuntimeError, ValueError):  # no key here (tests, CI, a fresh checkout)",
        "    pass",
    ]


def module_of(pending: Pending, rel: str) -> Tuple[Optional[Module], Optional[Step]]:
    text, problem = pending.text(rel)
    if text is None:
        return None, Step(problem or f"{rel} is missing", manual=True)
    tree, error = parse(text, rel)
    if tree is None:
        return None, Step(error or f"{rel}: cannot parse it: left alone", manual=True)
    return Module(text, tree), None


def _application_statement(tree: ast.Module) -> Optional[ast.stmt]:
    """The last top-level statement calling ``get_wsgi_application()`` or the ASGI one."""
    found: Optional[ast.stmt] = None
    for statement in tree.body:
        if any(True for _ in calls(statement, DJANGO_APPLICATION_CALLS)):
            found = statement
    return found


def wire_init(pending: Pending, rel: str, why: str, django: bool = False) -> Step:
    """Add the init idiom to module ``rel`` (``why`` says what the module is).

    ``django``: after the statement creating the application, not after the imports.
    """
    module, failed = module_of(pending, rel)
    if module is None:
        assert failed is not None
        failed.snippet = "\n".join(init_block())
        return failed
    if calls_init_pixel(module.tree):
        return Step(f"{rel} already calls ez_pixel.init_pixel()")
    if EZCODER_INIT_MODULE in imported_modules(module.tree):
        why = "the ezcoder installer's init_pixel call"
        return Step(f"{rel} imports {EZCODER_INIT_MODULE} ({why})")
    newline = pending.newline(rel)
    has_ez_pixel = top_level_import(module.tree, "ez_pixel")
    anchor = _application_statement(module.tree) if django else None
    if anchor is None:
        new = insert_after_imports(module, init_block(has_ez_pixel), newline)
        message = f"{rel}: call ez_pixel.init_pixel() after the imports ({why})"
    else:
        line = anchor.end_lineno or anchor.lineno
        text = module.text
        if not has_ez_pixel:
            text = import_line_after(module, "import ez_pixel", newline)
            line += text.count("\n") - module.text.count("\n")
        tree, _ = parse(text, rel)
        assert tree is not None
        statement = next(s for s in tree.body if (s.end_lineno or s.lineno) == line)
        new = insert_block_after(Module(text, tree), statement, init_block(True), newline)
        message = f"{rel}: call ez_pixel.init_pixel() after {last_name_of(anchor)}() ({why})"
    pending.update(rel, new, message)
    return Step(message, changed=True)


def last_name_of(statement: ast.stmt) -> str:
    """The name of the ``get_*_application`` call in ``statement``."""
    return next(last_name(c.func) for c in calls(statement, DJANGO_APPLICATION_CALLS))


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
    module, failed = module_of(pending, rel)
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
