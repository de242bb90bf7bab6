"""``send-test --cleanup``: delete the test event's group with the project's secret.

The secret and the project id come from ``~/.ezcoder/projects.json``, the
entry whose path is the current folder (``ez-pixel install`` and the ezcoder
installer write it). Everything is checked before the event is sent, so a
missing entry never leaves an event behind that was meant to be deleted.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from .common import EXIT_USAGE, CliError
from .ezcoder import ProjectsFileError, find_by_path, projects_file
from .management import ManagementError, delete_error, server_of


@dataclass
class Plan:
    """Where and with which secret the test event's group is deleted."""

    server: str
    project_id: str
    secret: str


def plan(folder: Path, ingest_url: str, served: Optional[Dict[str, str]] = None) -> Plan:
    """The project's id and secret for ``folder`` (or ``serve``'s default project,
    ``served``, when the event goes to it); CliError when there are none."""
    if served is not None:
        return Plan(server_of(ingest_url), served["id"], served["secret"])
    try:
        mapping = find_by_path(folder)
    except ProjectsFileError as exc:
        raise CliError(f"--cleanup: {exc}", EXIT_USAGE) from None
    if mapping is None or not mapping.secret:
        raise CliError(
            f"--cleanup needs this project's secret: {folder} has no entry with a secret in "
            f"{projects_file()} (run `ez-pixel install` here first); nothing was sent",
            EXIT_USAGE,
        )
    return Plan(server_of(ingest_url), mapping.id, mapping.secret)


def delete(plan: Plan, error_id: str) -> str:
    """Delete group ``error_id``; the line saying what happened (CliError if it failed)."""
    try:
        delete_error(plan.server, error_id, plan.secret)
    except ManagementError as exc:
        raise CliError(f"the test event was stored but not deleted: {exc}") from None
    return f"deleted error {error_id} (--cleanup)"
