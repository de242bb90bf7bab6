"""Shared helpers for ez-pixel's tests: event checks and subprocess runs."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Optional

KEY = "pk_test_abc123"
LEVELS = ("error", "warning", "fatal")
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
OCCURRED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def assert_valid(event: Dict[str, Any]) -> None:
    """Check an event against the server's rules, written out independently here."""
    assert set(event) >= {
        "event_id",
        "project_key",
        "fingerprint",
        "type",
        "message",
        "stack",
        "code_context",
        "runtime",
        "manual_report",
        "level",
        "occurred_at",
    }
    assert isinstance(event["event_id"], str) and 0 < len(event["event_id"]) <= 128
    assert re.match(r"^pk_(live|test)_[A-Za-z0-9_-]{1,128}$", event["project_key"])
    assert FINGERPRINT.match(event["fingerprint"])
    assert isinstance(event["type"], str) and len(event["type"]) <= 256
    assert isinstance(event["message"], str) and len(event["message"]) <= 4096
    assert event["level"] in LEVELS
    assert isinstance(event["manual_report"], bool)
    assert len(event["runtime"]) <= 64 and event["runtime"].startswith("python-")
    assert OCCURRED_AT.match(event["occurred_at"])
    assert len(json.dumps(event)) <= 65536
    for frame in event["stack"]:
        assert set(frame) == {"file", "line", "col", "fn", "in_app"}
        assert not os.path.isabs(frame["file"]), frame
        assert isinstance(frame["line"], int) and isinstance(frame["col"], int)


def run_script(
    tmp_path: Path,
    code: str,
    *,
    ingest_url: Optional[str] = None,
    name: str = "app.py",
    timeout: float = 30,
    env: Optional[Dict[str, str]] = None,
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """Write ``code`` to ``tmp_path/name`` and run it there with this Python."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(code))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIXEL_")}
    if ingest_url:
        full_env.update(PIXEL_PROJECT_KEY=KEY, PIXEL_INGEST_URL=ingest_url)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=str(tmp_path),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def agent_line(context: Dict[str, Any]) -> str:
    """The line the fix agent marks as failing: it numbers ``lines`` from
    ``error_line - (len(lines) - 1) // 2`` and ignores any other key."""
    lines = context["lines"]
    start = context["error_line"] - (len(lines) - 1) // 2
    marked = [line for number, line in enumerate(lines, start) if number == context["error_line"]]
    assert len(marked) == 1, context
    return str(marked[0])
