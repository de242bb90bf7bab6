"""``ez-pixel serve``, ``errors``, ``show``, ``resolve``: the management API in a terminal."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import make_event

from ez_pixel.cli import main
from ez_pixel.collector import Collector

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "pk_test_abc123"


def _post(port: int, event: Dict[str, Any]) -> Dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/ingest", json.dumps(event).encode())
        response = conn.getresponse()
        assert response.status == 200
        return dict(json.loads(response.read()))
    finally:
        conn.close()


def _seed(server: Collector) -> List[str]:
    """Two groups (the second seen twice, with an escape sequence in its message)."""
    library = {"file": "site-packages/lib.py", "line": 7, "col": 0, "fn": "call", "in_app": False}
    first = _post(server.port, make_event(stack=[library, *make_event()["stack"]]))
    time.sleep(0.002)  # a later millisecond: the list order is defined
    beef = make_event(fingerprint="beef", type="KeyError", message="'k'\x1b[31m", stack=[])
    second = _post(server.port, beef)
    _post(server.port, dict(beef, event_id="again"))
    return [first["error_id"], second["error_id"]]


def _auth(server: Collector) -> List[str]:
    project = server.store.ensure_key(KEY)
    return ["--url", server.url, "--project", project["id"], "--secret", project["secret"]]


def test_errors_table(collector: Any, capsys: Any) -> None:
    first, second = _seed(collector)
    probe = make_event(fingerprint="__pixel_install_probe__1", type="InstallProbe")
    _post(collector.port, probe)  # an installer's verification event: never listed
    assert main(["errors", *_auth(collector)]) == 0
    out = capsys.readouterr().out
    header, newest, oldest = out.splitlines()
    assert header.split()[:4] == ["ID", "STATUS", "TYPE", "MESSAGE"]
    assert newest.split()[:3] == [second[:12], "open", "KeyError"]
    assert "'k'\\x1b[31m" in newest and "\x1b" not in out
    assert newest.split()[-3] == "2"
    assert "app/views.py:42" in oldest  # innermost in-app frame, not the library one
    assert header.index("LOCATION") == oldest.index("app/views.py:42")
    assert main(["errors", *_auth(collector), "--status", "merged"]) == 0
    assert capsys.readouterr().out.strip() == "No errors recorded."
    assert main(["errors", *_auth(collector), "--json"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [second, first]
    assert "InstallProbe" not in out


def test_show_by_id_or_prefix(collector: Any, capsys: Any) -> None:
    first, second = _seed(collector)
    assert main(["show", first[:10], *_auth(collector)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ValueError: invalid literal for int() with base 10: 'x'"
    assert lines[1] == "  at app/views.py:42"
    assert "> 42 |     return int(qty)" in lines and "  40 | def parse_qty(text):" in lines
    stack = lines[lines.index("Stack (innermost first):") + 1 :]
    assert stack[:3] == [
        "  site-packages/lib.py:7 in call  [library]",
        "  app/views.py:42 in parse_qty",
        "  app/main.py:10 in handle",
    ]
    assert main(["show", second, *_auth(collector), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == "beef"
    assert main(["show", second, *_auth(collector)]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_resolve_marks_merged_and_the_error_recurs(collector: Any, capsys: Any) -> None:
    first, _ = _seed(collector)
    assert main(["resolve", first[:12], *_auth(collector)]) == 0
    assert capsys.readouterr().out.strip() == f"{first}: merged"
    answer = _post(collector.port, make_event())
    assert answer["recurred"] is True
    assert main(["show", first, *_auth(collector)]) == 0
    assert "open (came back 1 time(s) after a merged fix)" in capsys.readouterr().out
    assert main(["resolve", first, *_auth(collector), "--status", "failed"]) == 0
    assert capsys.readouterr().out.strip() == f"{first}: failed"


def test_failures_are_one_line(collector: Any, capsys: Any) -> None:
    _seed(collector)
    assert main(["show", "err_nope", *_auth(collector)]) == 1
    assert capsys.readouterr().err.strip() == "ez-pixel: no error 'err_nope' in this project"
    assert main(["show", "err_", *_auth(collector)]) == 1
    assert "matches 2 errors" in capsys.readouterr().err
    assert main(["show", "err_" + "0" * 32, *_auth(collector)]) == 1
    assert "answered 404" in capsys.readouterr().err
    wrong = ["--url", collector.url, "--project", "proj_x", "--secret", "sk_live_" + "0" * 64]
    assert main(["errors", *wrong]) == 1
    err = capsys.readouterr().err
    assert "answered 401" in err and "invalid secret" in err
    dead = Collector().start()
    dead.stop()
    assert main(["errors", "--url", dead.url, "--project", "p", "--secret", "s"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot reach" in err
    assert main(["errors", "--db", "/nonexistent/pixel.db"]) == 2
    assert "which project?" in capsys.readouterr().err
    assert main(["show"]) == 2
    assert main(["serve", "--keys", "not-a-key"]) == 2
    assert main([]) == 2
    assert main(["errors", "--url", "ftp://x", "--project", "p", "--secret", "s"]) == 2


def _run_cli(*args: str, **kwargs: Any) -> "subprocess.Popen[str]":
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "ez_pixel.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def _serve(db: str, cwd: Path) -> "subprocess.Popen[str]":
    return _run_cli("serve", "--port", "0", "--db", db, cwd=str(cwd))


def _banner(proc: "subprocess.Popen[str]") -> List[str]:
    assert proc.stdout is not None
    lines = []
    while not lines or not lines[-1].startswith("Point the SDK"):
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        lines.append(line.rstrip("\n"))
    return lines


def _stop(proc: "subprocess.Popen[str]") -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    return err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_serve_creates_a_default_project_and_the_commands_find_it(tmp_path: Path) -> None:
    db = str(tmp_path / "ez-pixel.db")
    proc = _serve(db, tmp_path)
    killer = threading.Timer(30, proc.kill)
    killer.start()
    try:
        banner = _banner(proc)
        assert banner[0].startswith("ez-pixel collector listening on http://127.0.0.1:")
        port = int(banner[0].rsplit(":", 1)[1])
        fields = dict(line.strip().split(":", 1) for line in banner[1:5])
        key, secret = fields["key"].strip(), banner[5].split(":", 1)[1].strip()
        assert key.startswith("pk_live_") and secret.startswith("sk_live_")
        answer = _post(port, make_event(project_key=key))
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert (
            "ValueError" in line and "app/views.py:42" in line and answer["error_id"][:12] in line
        )
        # errors/show/resolve take the project from the database, the errors over HTTP.
        listing = _run_cli("errors", "--url", f"http://127.0.0.1:{port}", cwd=str(tmp_path))
        out, err = listing.communicate(timeout=15)
        assert (listing.returncode, err) == (0, "") and "ValueError" in out
        resolved = _run_cli(
            "resolve", answer["error_id"][:12], "--url", f"http://127.0.0.1:{port}", "--db", db
        )
        out, err = resolved.communicate(timeout=15)
        assert (resolved.returncode, out.strip()) == (0, f"{answer['error_id']}: merged"), err
        _stop(proc)
        again = _serve(db, tmp_path)
        banner = _banner(again)
        assert f"  key:        {key}" in banner
        assert not any(secret in line for line in banner)  # shown once only
        _stop(again)
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_on_a_busy_port_says_so_in_one_line(capsys: Any, tmp_path: Path) -> None:
    with Collector() as busy:
        code = main(["serve", "--port", str(busy.port), "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith(f"ez-pixel: cannot listen on 127.0.0.1:{busy.port}:")
    assert len(err.strip().splitlines()) == 1
