"""FastAPI/Starlette: a lifespan that flushes ez-pixel's queue when the server stops.

Recent uvicorn releases end a graceful shutdown by re-raising SIGTERM, which
kills the process before ``atexit`` runs, so errors still queued would be
lost; a lifespan's exit runs before that. The app's ``app = FastAPI(...)`` (or
``Starlette(...)``) gets ``lifespan=ez_pixel_lifespan``, defined just above it::

    @contextlib.asynccontextmanager
    async def ez_pixel_lifespan(app: typing.Any) -> typing.AsyncIterator[None]:
        yield
        ez_pixel.flush_pixel(timeout=2)

An app that already has a lifespan or shutdown handlers (``lifespan=``,
``on_shutdown=``, ``@app.on_event``: FastAPI ignores those once a lifespan is
given) is left alone, with the line to add to it.
"""

import ast
from typing import List, Optional

from .containers import append_element
from .files import Pending
from .pysource import (
    Module,
    call_arguments,
    calls,
    import_line_after,
    insert_block_before,
    keyword,
    last_name,
    parse,
    top_level_import,
)
from .wiring import Step

LIFESPAN = "ez_pixel_lifespan"
FLUSH = "ez_pixel.flush_pixel(timeout=2)"
_APPS = {"FastAPI", "Starlette"}


def lifespan_block() -> List[str]:
    """The lifespan function's lines."""
    return [
        "@contextlib.asynccontextmanager",
        f"async def {LIFESPAN}(app: typing.Any) -> typing.AsyncIterator[None]:",
        '    """ez-pixel: send the errors still queued when the server stops."""',
        "    yield",
        f"    {FLUSH}  # uvicorn may end the process before atexit",
    ]


def _app_statement(tree: ast.Module) -> Optional[ast.Assign]:
    """The top-level ``name = FastAPI(...)``/``Starlette(...)``, when there is exactly one."""
    found = [
        statement
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Call)
        and last_name(statement.value.func) in _APPS
    ]
    return found[0] if len(found) == 1 else None


def _flushes(tree: ast.AST) -> bool:
    return any(True for _ in calls(tree, {"flush_pixel", "close_pixel"}))


def wire_lifespan(pending: Pending, rel: str) -> Step:
    """Give the app in ``rel`` a lifespan that flushes; a manual step when that is unsafe."""
    manual = Step(
        f"{rel}: the app has its own lifespan or shutdown handlers: call {FLUSH} when it "
        "shuts down (after the lifespan's yield)",
        manual=True,
    )
    text, problem = pending.text(rel)
    tree, error = parse(text, rel) if text is not None else (None, problem)
    if text is None or tree is None:
        return Step(f"{error}; add a lifespan that calls {FLUSH}", manual=True)
    if _flushes(tree):
        return Step(f"{rel}: the app already flushes ez-pixel on shutdown")
    statement = _app_statement(tree)
    if statement is None:
        return Step(
            f"{rel}: no single `app = FastAPI(...)` found: give the app a lifespan that "
            f"calls {FLUSH} after its yield",
            manual=True,
        )
    call = statement.value
    assert isinstance(call, ast.Call)
    shutdown = any(True for _ in calls(tree, {"on_event", "add_event_handler"}))
    if keyword(call, "lifespan") or keyword(call, "on_shutdown") or shutdown:
        return manual
    if any(item.arg is None for item in call.keywords):
        return manual  # **settings may hold a lifespan
    newline = pending.newline(rel)
    module = Module(text, tree)
    opening, closing, spans = call_arguments(module, call)
    edited = append_element(text, opening, closing, spans, f"lifespan={LIFESPAN}", newline)
    if edited is None:
        return manual
    tree, _ = parse(edited, rel)
    assert tree is not None
    anchor = _app_statement(tree)
    assert anchor is not None
    edited = insert_block_before(Module(edited, tree), anchor, lifespan_block(), newline)
    for name in ("contextlib", "typing"):
        tree, _ = parse(edited, rel)
        assert tree is not None
        if not top_level_import(tree, name):
            edited = import_line_after(Module(edited, tree), f"import {name}", newline)
    message = f"{rel}: flush ez-pixel when the server stops (a lifespan on the app)"
    pending.update(rel, edited, message)
    return Step(message, changed=True)
