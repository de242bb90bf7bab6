"""Read Python modules with ``ast`` and edit them as text at the positions it gives.

``ast`` says *where* (the end of the import block, a list literal's elements,
a call's arguments); the edit itself is a textual insertion, so comments,
quotes and layout stay exactly as the author wrote them. ``ast`` columns are
UTF-8 byte offsets; :class:`Module` turns them into string indexes.
"""

import ast
import sys
import warnings
from typing import Iterator, List, Optional, Sequence, Set, Tuple, Union

from .containers import Span
from .files import split_lines

Container = Union[ast.List, ast.Dict, ast.Tuple]
_DECORATED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def parse(text: str, rel: str) -> Tuple[Optional[ast.Module], Optional[str]]:
    """Return ``(tree, None)``, or ``(None, why)`` for a file this Python cannot parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for the author's escapes
            return ast.parse(text, filename=rel), None
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"line {line}: " if line else ""
        message = getattr(exc, "msg", None) or str(exc)
        version = "{}.{}".format(*sys.version_info[:2])
        return None, (
            f"{rel}: cannot parse it with Python {version} ({where}{message}): left alone"
        )


class Module:
    """A parsed module and its text, with ``ast`` positions mapped to string indexes."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        """Index ``text``'s lines for :meth:`offset`."""
        self.text = text
        self.tree = tree
        self.lines = split_lines(text)
        self._starts: List[int] = []
        total = 0
        for line in self.lines:
            self._starts.append(total)
            total += len(line)
        self._starts.append(total)

    def offset(self, lineno: int, col: int) -> int:
        """The string index of ``ast``'s (1-based line, UTF-8 byte column)."""
        if lineno > len(self.lines):
            return len(self.text)
        line = self.lines[lineno - 1]
        if not line.isascii():
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return self._starts[lineno - 1] + col

    def span(self, node: ast.AST) -> Span:
        """``node``'s ``(start, end)`` string indexes."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        end_col = node.end_col_offset  # type: ignore[attr-defined]
        return start, self.offset(end_line, end_col if end_col is not None else 0)

    def source(self, node: ast.AST) -> str:
        """The exact text of ``node``."""
        start, end = self.span(node)
        return self.text[start:end]

    def elements(self, node: Container) -> Optional[List[Span]]:
        """Spans of a literal's elements (``key: value`` for a dict); None with ``**spread``."""
        if isinstance(node, ast.Dict):
            spans: List[Span] = []
            for key, value in zip(node.keys, node.values):
                if key is None:
                    return None
                spans.append((self.span(key)[0], self.span(value)[1]))
            return spans
        return [self.span(element) for element in node.elts]

    def brackets(self, node: Container) -> Span:
        """Indexes of a literal's opening and closing bracket."""
        start, end = self.span(node)
        return start, end - 1


def _import_only(statements: Sequence[ast.stmt]) -> bool:
    return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in statements)


def _import_like(statement: ast.stmt) -> bool:
    """An import, or an ``if``/``try`` made only of imports (``TYPE_CHECKING``, fallbacks)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(statement, ast.If):
        return _import_only(statement.body) and _import_only(statement.orelse)
    if isinstance(statement, ast.Try):
        handlers = [s for h in statement.handlers for s in h.body]
        parts = [statement.body, handlers, statement.orelse, statement.finalbody]
        return all(_import_only(part) for part in parts)
    return False


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def insert_after_imports(module: Module, block: Sequence[str], newline: str) -> str:
    """The module's text with ``block`` (lines without endings) after its leading imports.

    The block goes after the docstring and the import statements that open the
    module, separated by blank lines; with no imports, after the docstring or
    before the first statement (so a shebang and header comments stay first).
    """
    body = module.tree.body
    index = 0
    if body and _is_docstring(body[0]):
        index = 1
    last: Optional[ast.stmt] = body[0] if index else None
    while index < len(body) and _import_like(body[index]):
        last = body[index]
        index += 1
    lines = list(module.lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    text_block = [line + newline if line else newline for line in block]
    if last is not None:
        at = last.end_lineno or last.lineno
        following = lines[at] if at < len(lines) else ""
        after = [newline] if following.strip() else []
        lines[at:at] = [newline, *text_block, *after]
    elif body:
        first = body[0]
        at = first.lineno - 1
        if isinstance(first, _DECORATED) and first.decorator_list:
            at = first.decorator_list[0].lineno - 1
        lines[at:at] = [*text_block, newline]
    else:
        lines.extend([*text_block])
    return "".join(lines)


def import_line_after(module: Module, line: str, newline: str) -> str:
    """The module's text with one import ``line`` right after the leading imports."""
    body = module.tree.body
    last: Optional[ast.stmt] = None
    for index, statement in enumerate(body):
        if index == 0 and _is_docstring(statement):
            last = statement
            continue
        if not _import_like(statement):
            break
        last = statement
    lines = list(module.lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    if last is None:
        lines[0:0] = [line + newline]
    elif _is_docstring(last):
        at = last.end_lineno or last.lineno
        lines[at:at] = [newline, line + newline]
    else:
        at = last.end_lineno or last.lineno
        lines[at:at] = [line + newline]
    return "".join(lines)


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ``""``."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def last_name(node: ast.AST) -> str:
    """The last part of a Name/Attribute (``Flask`` for ``flask.Flask``), else ``""``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def calls(tree: ast.AST, names: Set[str]) -> Iterator[ast.Call]:
    """Every call whose callee's last name is in ``names``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and last_name(node.func) in names:
            yield node


def imported_modules(tree: ast.AST) -> Set[str]:
    """Every absolute module name imported anywhere (``a.b`` gives ``a.b`` and ``a``)."""
    found: Set[str] = set()
    for node in ast.walk(tree):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            found.update(".".join(parts[: n + 1]) for n in range(len(parts)))
    return found


def top_level_import(tree: ast.Module, module: str) -> bool:
    """True when the module does ``import <module>`` (no alias) at top level."""
    for statement in tree.body:
        if isinstance(statement, ast.Import) and any(
            alias.name == module and alias.asname is None for alias in statement.names
        ):
            return True
    return False


def calls_init_pixel(tree: ast.AST) -> bool:
    """True when the module calls ``ez_pixel.init_pixel`` (or an imported ``init_pixel``)."""
    for call in calls(tree, {"init_pixel"}):
        name = dotted(call.func)
        if name in ("ez_pixel.init_pixel", "init_pixel"):
            return True
    return False


def string_value(node: Optional[ast.AST]) -> Optional[str]:
    """The value of a string literal, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    """The value passed as ``name=`` to ``call``, if any."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def module_assignments(tree: ast.Module, name: str) -> List[ast.Assign]:
    """Top-level ``name = ...`` statements (single target)."""
    return [
        statement
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == name
    ]


def name_uses(tree: ast.AST, name: str) -> int:
    """How many times ``name`` appears as a Name anywhere in the module."""
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == name)


def insert_block_after(
    module: Module, statement: ast.stmt, block: Sequence[str], newline: str
) -> str:
    """The module's text with ``block`` after top-level ``statement``, set off by blank lines."""
    lines = list(module.lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    at = statement.end_lineno or statement.lineno
    following = lines[at] if at < len(lines) else ""
    text_block = [line + newline if line else newline for line in block]
    lines[at:at] = [newline, *text_block, *([newline] if following.strip() else [])]
    return "".join(lines)


def insert_block_before(
    module: Module, statement: ast.stmt, block: Sequence[str], newline: str
) -> str:
    """The module's text with ``block`` before top-level ``statement``, two blank lines around."""
    lines = list(module.lines)
    at = statement.lineno - 1
    if isinstance(statement, _DECORATED) and statement.decorator_list:
        at = statement.decorator_list[0].lineno - 1
    blank = 0
    while blank < 2 and at - blank > 0 and not lines[at - blank - 1].strip():
        blank += 1
    text_block = [line + newline if line else newline for line in block]
    lines[at:at] = [*([newline] * (2 - blank)), *text_block, newline, newline]
    return "".join(lines)


def call_arguments(module: Module, call: ast.Call) -> Tuple[int, int, List[Span]]:
    """A call's opening and closing parenthesis indexes and its arguments' spans, in order."""
    start = module.span(call.func)[1]
    opening = module.text.index("(", start)
    closing = module.span(call)[1] - 1
    spans: List[Span] = [module.span(arg) for arg in call.args]
    for item in call.keywords:
        value_start, value_end = module.span(item.value)
        if item.arg is None:  # **kwargs
            begin = module.text.rfind("**", opening, value_start)
        else:  # keyword nodes have no position before Python 3.9
            begin = module.text.rfind(item.arg, opening, value_start)
        spans.append((begin, value_end))
    spans.sort()
    return opening, closing, spans
