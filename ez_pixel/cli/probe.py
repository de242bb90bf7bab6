"""The install probe: one event sent through the SDK, found in the project's list, deleted.

As the ezcoder installer's ``verify.ts`` does: the probe's fingerprint starts
with ``__pixel_install_probe__`` and its type is ``InstallProbe``, so every
listing of the ezcoder tools hides it even if it stays. With the project's id
and secret it is looked up in ``GET /api/projects/<id>/errors`` (which proves
the key, the id and the secret belong together) and then deleted, so the fix
queue never sees it. Without a secret (a key given by hand) only the ingest
answer confirms it, and it stays, hidden.
"""

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ez_pixel.options import Options

from .management import PROBE_PREFIX, ManagementError, delete_error, list_errors
from .send_test import post_event, prepare_test_event

PROBE_TYPE = "InstallProbe"
PROBE_MESSAGE = "Install verification probe (ez-pixel install): safe to delete"
#: How long the probe may take to show in the error list.
LIST_TIMEOUT = 5.0
_POLL_EVERY = 0.25


@dataclass
class ProbeResult:
    """Whether the probe made the round trip, and what happened, line by line."""

    ok: bool
    lines: List[str]


def probe_body(options: Options) -> bytes:
    """The probe event: built by the SDK, then given the probe's fingerprint, type and message."""
    body, _ = prepare_test_event(options)
    event: Dict[str, Any] = json.loads(body)
    event.update(
        fingerprint=PROBE_PREFIX + secrets.token_hex(6),
        type=PROBE_TYPE,
        message=PROBE_MESSAGE,
        stack=[],
        code_context=None,
        manual_report=True,
        level="error",
    )
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


def _find(server: str, project_id: str, secret: str, fingerprint: str) -> Optional[str]:
    """The probe's error id once it shows in the list; None at the deadline."""
    deadline = time.monotonic() + LIST_TIMEOUT
    while True:
        for row in list_errors(server, project_id, secret):
            if row.get("fingerprint") == fingerprint:
                return str(row.get("id"))
        if time.monotonic() >= deadline:
            return None
        time.sleep(_POLL_EVERY)


def run_probe(options: Options, server: str, project_id: str = "", secret: str = "") -> ProbeResult:
    """Send the probe; with ``project_id`` and ``secret``, confirm it in the list and delete it."""
    body = probe_body(options)
    fingerprint = json.loads(body)["fingerprint"]
    posted = post_event(options, body)
    if not posted.stored:
        return ProbeResult(False, [f"the probe was not stored: {posted.text}"])
    lines = [f"probe stored ({posted.text})"]
    if not (project_id and secret):
        lines.append(
            "not confirmed through the error list: no secret for this project in "
            "~/.ezcoder/projects.json; the probe stays, hidden by the ezcoder tools"
        )
        return ProbeResult(True, lines)
    try:
        error_id = _find(server, project_id, secret, fingerprint)
    except ManagementError as exc:
        lines.append(f"cannot read project {project_id}'s errors with its secret: {exc}")
        return ProbeResult(False, lines)
    if error_id is None:
        lines.append(
            f"the probe is not in project {project_id}'s error list after {LIST_TIMEOUT:g}s: "
            "the key belongs to another project than the id and secret in projects.json"
        )
        return ProbeResult(False, lines)
    lines.append(f"found in project {project_id}'s error list (as {error_id})")
    try:
        delete_error(server, error_id, secret)
    except ManagementError as exc:
        lines.append(f"could not delete it ({exc}): the ezcoder tools hide it anyway")
        return ProbeResult(True, lines)
    lines.append("deleted: no probe stays among the project's errors")
    return ProbeResult(True, lines)
