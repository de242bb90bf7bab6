"""The command line's rough edges a new user hit, each as the user sees it."""

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from ez_pixel import DEFAULT_INGEST_URL, __version__
from ez_pixel.cli import main
from ez_pixel.cli.config import HOSTED_INGEST_URL, LOCAL_INGEST_URL, resolve
from ez_pixel.testing import capture_events


def run(capsys: Any, *argv: str) -> Tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ez_pixel(*argv: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "ez_pixel", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = ez_pixel("serve", "--port", str(port), "--db", str(tmp_path / "x.db"), timeout=30)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}: " in result.stderr
    assert "address already in use" in result.stderr.lower()


def test_show_a_huge_id_is_one_clear_line(capsys: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "ez-pixel.db")
    with capture_events(db=db) as collector:
        collector.store.default_project()  # as `ez-pixel serve` makes it on its first start
        for bad in ("99999999999999999999999", "9223372036854775808"):
            code, _out, err = run(capsys, "show", bad, "--db", db, "--url", collector.url)
            assert code in (1, 2) and err.startswith("ez-pixel: ") and err.count("\n") == 1, err
            assert "Traceback" not in err and "Overflow" not in err


def test_version(capsys: Any) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == f"ez-pixel {__version__}\n"


@pytest.mark.parametrize("command", ["serve", "errors", "show", "demo"])
def test_help_describes_each_command_in_plain_text(capsys: Any, command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    paragraphs = [p for p in out.split("\n\n") if p.strip()]
    description = " ".join(paragraphs[1].split())  # after the usage, before the options
    assert not description.startswith(("options:", "positional arguments:")), out
    assert len(description.split()) >= 8, out  # a sentence or two, not a word
    assert "``" not in out and ":mod:" not in out


def test_serve_on_every_interface_says_where_and_warns(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "ez_pixel", "serve", "--host", "0.0.0.0", "--port", "0"]
    process = subprocess.Popen(
        [*argv, "--db", str(tmp_path / "x.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: List[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("Ctrl-C" in line for line in lines):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    banner = "".join(lines)
    assert re.search(r"listening on http://0\.0\.0\.0:\d+ \(every network interface\)", banner)
    assert "127.0.0.1:" not in banner.splitlines()[0]
    assert "reachable from the network" in err and "Traceback" not in err


def test_send_test_defaults_follow_the_app() -> None:
    nothing = resolve({}, environ={})
    assert (nothing.key, nothing.url) == ("", LOCAL_INGEST_URL)  # install's default too
    dotenv = {"EZCODER_PIXEL_KEY": "pk_test_env_file"}
    from_file = resolve(dotenv, environ={})
    assert from_file.key == "pk_test_env_file" and from_file.url == HOSTED_INGEST_URL
    environ = {"PIXEL_PROJECT_KEY": "pk_test_a", "EZCODER_PIXEL_KEY": "pk_test_b"}
    both = resolve({**dotenv, "PIXEL_INGEST_URL": "http://127.0.0.1:1/ingest"}, environ=environ)
    assert both.key == "pk_test_a" and both.key_from == "PIXEL_PROJECT_KEY in the environment"
    assert both.url == "http://127.0.0.1:1/ingest" and both.url_from.endswith("in .env")
    flags = resolve(dotenv, "pk_test_flag", "http://127.0.0.1:2/ingest", environ=environ)
    assert (flags.key, flags.url) == ("pk_test_flag", "http://127.0.0.1:2/ingest")


def test_send_test_help_names_the_defaults_it_uses(capsys: Any) -> None:
    code, out, _ = run(capsys, "send-test", "--help")
    text = " ".join(re.sub(r"-\n\s*", "-", out).split())  # argparse wraps at hyphens
    assert code == 0 and DEFAULT_INGEST_URL in text and LOCAL_INGEST_URL in text
    order = ["PIXEL_INGEST_URL", ".env", "hosted server", "no key anywhere"]
    assert [text.index(word) for word in order] == sorted(text.index(word) for word in order)


def test_demo_keep_leaves_what_errors_and_show_read() -> None:
    result = ez_pixel("demo", "--keep")
    assert result.returncode == 0, result.stdout + result.stderr
    kept = re.search(r"ez-pixel errors --db (\S+)", result.stdout)
    assert kept is not None, result.stdout
    db = Path(kept.group(1))
    try:
        assert db.is_file() and (db.parent / "demo_app.py").is_file()
        with capture_events(db=str(db)) as collector:  # `ez-pixel serve --db`, as printed
            listed = ez_pixel("errors", "--db", str(db), "--url", collector.url)
            assert listed.returncode == 0, listed.stderr
            rows = [line for line in listed.stdout.splitlines()[1:] if line.strip()]
            assert len(rows) == 6 and any("KeyError" in row for row in rows)
            first = rows[0].split()[0]
            shown = ez_pixel("show", first, "--db", str(db), "--url", collector.url)
            assert shown.returncode == 0 and "demo_app.py" in shown.stdout
    finally:
        shutil.rmtree(db.parent)
