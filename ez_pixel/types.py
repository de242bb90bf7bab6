"""The wire format's types: the one place the event's fields are written down.

:data:`ez_pixel.contract.FIELDS` is computed from :class:`WireEvent`. The names
stay importable from ``ez_pixel`` for code written against ez-pixel 0.1.0.
"""

from typing import Any, Dict, List, Literal, Optional, TypedDict

#: An event's severity, as the server accepts it.
Level = Literal["error", "warning", "fatal"]


class StackFrame(TypedDict):
    """One frame of an event's ``stack`` (innermost first)."""

    file: str
    line: int
    col: int
    fn: str
    in_app: bool


class CodeContext(TypedDict, total=False):
    """Source lines around the failing line; ``start_line`` numbers ``lines[0]``."""

    file: str
    error_line: int
    lines: List[str]
    start_line: int


class WireEvent(TypedDict):
    """One event as POSTed to the ingest endpoint."""

    event_id: str
    project_key: str
    fingerprint: str
    type: str
    message: str
    stack: List[StackFrame]
    code_context: Optional[CodeContext]
    runtime: str
    manual_report: bool
    level: Level
    occurred_at: str


class ReportInput:
    """The arguments of a manual report (0.1.0's and the ecosystem SDK's input type).

    ``client.report(ReportInput(...))`` reports it. ``context`` is accepted
    as the ecosystem's SDK accepts it, and, as there, not sent.
    """

    def __init__(
        self,
        message: str,
        error: Optional[BaseException] = None,
        level: Level = "error",
        context: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.message = message
        self.error = error
        self.level = level
        self.context: Dict[str, Any] = dict(context or {})
