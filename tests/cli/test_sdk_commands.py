"""The SDK-facing commands: ``send-test`` and ``demo``, run as a user runs them."""

import subprocess
import sys
from typing import Any

from ez_pixel.cli import main
from ez_pixel.collector import Collector
from helpers import KEY, assert_valid


def test_send_test_stores_an_event(collector: Any, capsys: Any) -> None:
    assert main(["send-test", "--project-key", KEY, "--ingest-url", collector.ingest_url]) == 0
    assert "stored: new error group" in capsys.readouterr().out
    assert main(["send-test", "--project-key", KEY, "--ingest-url", collector.ingest_url]) == 0
    assert "another occurrence" in capsys.readouterr().out
    first, second = collector.wait_for(2)
    assert_valid(first)
    assert (
        first["type"] == "ez_pixel.cli.send_test.PixelSendTestError"
        and first["manual_report"] is True
    )
    assert first["fingerprint"] == second["fingerprint"]


def test_send_test_reports_a_refused_key() -> None:
    with Collector(keys=["pk_test_known"]).start() as server:
        result = subprocess.run(
            [sys.executable, "-m", "ez_pixel", "send-test"],
            env={"PIXEL_PROJECT_KEY": KEY, "PIXEL_INGEST_URL": server.ingest_url, "PATH": ""},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "HTTP 401: unknown project_key" in result.stdout
    assert "Traceback" not in result.stderr and "not stored" in result.stderr


def test_send_test_rejects_a_malformed_key_and_an_unreachable_server(capsys: Any) -> None:
    assert main(["send-test", "--project-key", "nope", "--ingest-url", "http://127.0.0.1:9"]) == 2
    assert "project_key" in capsys.readouterr().err
    assert main(["send-test", "--project-key", KEY, "--ingest-url", "http://127.0.0.1:9/i"]) == 1
    assert "could not reach" in capsys.readouterr().err


def test_demo_end_to_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ez_pixel", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    table = out.split("as `ez-pixel errors` lists them")[1].split("What a coding agent reads")[0]
    lines = [line for line in table.splitlines() if line.strip()]
    rows = lines[next(n for n, line in enumerate(lines) if line.startswith("ID ")) + 1 :]
    assert len(rows) == 6
    for expected in ("KeyError", "ValueError", "LogMessage", "ManualReport"):
        assert expected in table
    assert all(row.split()[1] == "open" for row in rows)
    assert "demo_app.py:" in table and "/tmp" not in table
    assert "> " in out.split("What a coding agent reads")[1]  # the failing line is marked
