"""Projects after ``ez-pixel install``, started the way they are normally started.

No key variables in the environment: the app finds its key in the ``.env``
install wrote, as on the developer's machine; without that ``.env`` (the
project's CI, another developer's checkout) it runs unreported and unharmed.

``tests/install_fixtures/flaskr`` is the Flask tutorial app, copied unchanged
from the Flask repository (``examples/tutorial`` at commit 2ac89889, BSD-3-Clause,
its LICENSE.txt beside it); its own test suite runs with ``filterwarnings = ["error"]``.
"""

import os
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest

from ez_pixel.cli import main
from helpers import KEY
from servers import FaultServer, free_port

pytest.importorskip("flask")
pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

FIXTURES = Path(__file__).resolve().parents[1] / "install_fixtures"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: Any) -> None:
    """A fresh HOME and no key variables from the outside."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("PIXEL_PROJECT_KEY", "PIXEL_INGEST_URL", "EZCODER_PIXEL_KEY"):
        monkeypatch.delenv(name, raising=False)


def installed(name: str, tmp_path: Path, ingest_url: str, capsys: Any) -> Path:
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    code = main(["install", str(project), "--project-key", KEY, "--ingest-url", ingest_url])
    out = capsys.readouterr().out
    assert code == 0, out
    return project


def plain_env(project: Path) -> Dict[str, str]:
    """This environment without any key variable; the project importable."""
    env = {k: v for k, v in os.environ.items() if "PIXEL_" not in k}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_flaskr_tests_pass_without_a_key_and_flask_run_reports(
    fw: Any, collector: Any, tmp_path: Path, capsys: Any
) -> None:
    project = installed("flaskr", tmp_path, collector.ingest_url, capsys)
    wired = (project / "flaskr/__init__.py").read_text()
    assert "ez_pixel.init_pixel()" in wired and "warnings" not in wired

    # Its CI: no .env, warnings are errors. Its 24 tests pass, without a word from ez-pixel.
    (project / ".env").rename(project / "env.saved")
    suite = fw.run(
        [fw.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, plain_env(project)
    )
    assert suite.returncode == 0, suite.stdout + suite.stderr
    assert "24 passed" in suite.stdout and "ez-pixel" not in suite.stdout + suite.stderr
    (project / "env.saved").rename(project / ".env")

    # The developer's machine: `flask run` as the tutorial says; before `init-db` the
    # index page fails on a missing table, and that error arrives.
    port = free_port()
    argv = [fw.python, "-m", "flask", "--app", "flaskr", "run", "--port", str(port)]
    app = fw.start(argv, cwd=project, env=plain_env(project))
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/hello")
    assert fw.http("GET", base + "/")[0] == 500
    missing_table = "sqlite3.OperationalError"
    bodies = collector.wait_for(lambda got: any(b["type"] == missing_table for b in got))
    event = next(b for b in bodies if b["type"] == missing_table)
    assert "no such table: post" in event["message"]
    assert event["stack"][0]["file"] == "flaskr/blog.py"
    app.stop()


def test_fastapi_lifespan_flushes_on_sigterm(fw: Any, tmp_path: Path, capsys: Any) -> None:
    """uvicorn re-raises SIGTERM after shutdown (atexit never runs): the lifespan flushes."""
    with FaultServer(delay=0.3) as slow:
        project = installed("fastapi_uv", tmp_path, slow.ingest_url, capsys)
        assert "lifespan=ez_pixel_lifespan" in (project / "main.py").read_text()
        probes = len(slow.bodies())
        port = free_port()
        argv = [fw.python, "-m", "uvicorn", "main:app", "--port", str(port)]
        app = fw.start(argv, cwd=project, env=plain_env(project))
        base = f"http://127.0.0.1:{port}"
        app.wait_until_up(base + "/docs")
        for _ in range(3):
            assert fw.http("GET", base + "/boom")[0] == 500
        app.stop()
        errors = [b for b in slow.bodies()[probes:] if b["type"] == "ZeroDivisionError"]
        assert len(errors) == 3, app.output()
