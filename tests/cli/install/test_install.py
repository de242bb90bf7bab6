"""``ez-pixel install``: fixture projects of each kind, installed, re-installed and run.

Each fixture under ``tests/install_fixtures/`` is copied to ``tmp_path`` and
installed against the test collector. Where the code is importable here
(plain Python, structlog, Django's LOGGING through ``dictConfig``, Flask when
installed) the wired project runs in a subprocess and its error is seen
arriving at the collector; elsewhere the diff is checked and the edited files
must still parse.
"""

import ast
import configparser
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ez_pixel.cli import main
from ez_pixel.cli.install.containers import append_element
from ez_pixel.cli.install.depedit import add_dependency
from ez_pixel.cli.install.deps import Requirement, find_packaging
from ez_pixel.cli.install.files import Project
from ez_pixel.cli.install.keys import gitignore_ignores_env
from ez_pixel.cli.install.tomlscan import TomlError, scan
from helpers import KEY

if sys.version_info >= (3, 11):
    import tomllib as toml_parser
else:  # the test extra installs tomli there
    import tomli as toml_parser

FIXTURES = Path(__file__).resolve().parents[2] / "install_fixtures"
REQUIRED = os.environ.get("EZ_PIXEL_REQUIRE_FRAMEWORKS") == "1"


def need(name: str) -> None:
    """Go on only if ``name`` is importable, to run the wired project for real.

    Without it the rest of the test is skipped, except under
    ``EZ_PIXEL_REQUIRE_FRAMEWORKS=1`` (CI, tox), where it fails.
    """
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed: the wired project cannot run"
        if REQUIRED:
            pytest.fail(f"{message} (EZ_PIXEL_REQUIRE_FRAMEWORKS=1)")
        pytest.skip(message)


class Terminal(io.StringIO):
    """A stdin that is a terminal, with the user's answers in it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def nobody_there(monkeypatch: Any, tmp_path: Path) -> None:
    """No terminal to ask (as under CI), no key variables from the outside, a fresh HOME."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    for name in ("PIXEL_PROJECT_KEY", "PIXEL_INGEST_URL", "EZCODER_PIXEL_KEY"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def snapshot(root: Path) -> Dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def install(capsys: Any, project: Path, *args: str) -> Tuple[int, str]:
    code = main(["install", str(project), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def install_key(capsys: Any, project: Path, collector: Any, *args: str) -> Tuple[int, str]:
    return install(
        capsys, project, "--project-key", KEY, "--ingest-url", collector.ingest_url, *args
    )


def assert_idempotent(capsys: Any, project: Path, collector: Any, *args: str) -> None:
    before = snapshot(project)
    _, out = install_key(capsys, project, collector, *args)
    assert "Nothing to change" in out, out
    assert snapshot(project) == before


def assert_parses(project: Path, *rels: str) -> None:
    for rel in rels:
        ast.parse((project / rel).read_text(encoding="utf-8"), filename=rel)


def run_env(project: Path, **extra: str) -> Dict[str, str]:
    """This environment without key variables: the app finds them in its .env, as usual."""
    env = {k: v for k, v in os.environ.items() if "PIXEL_" not in k}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_python(
    project: Path, args: List[str], env: Dict[str, str]
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def arrived(collector: Any, type_name: str) -> Dict[str, Any]:
    def seen(bodies: List[Any]) -> bool:
        return any(body["type"] == type_name for body in bodies)

    bodies = collector.wait_for(seen, timeout=10)
    event: Dict[str, Any] = next(body for body in bodies if body["type"] == type_name)
    return event


def toml(project: Path) -> Dict[str, Any]:
    return toml_parser.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


# -- each kind, end to end -------------------------------------------------------------


def test_plain_package_is_wired_and_reports_a_crash(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert '+dependencies = ["requests>=2", "ez-pixel>=0.2"]' in out
    assert "+++ b/plaintool/cli.py" in out and "+    ez_pixel.init_pixel()" in out
    assert "__main__.py" not in out  # it runs the console script's module: wired once
    assert "probe stored (stored: new error group" in out and "\n  ok\n" in out
    cli = (project / "plaintool/cli.py").read_text()
    assert cli.index("import sys") < cli.index("import ez_pixel") < cli.index("def parse_total")
    assert (project / ".env").read_text() == (
        "# ez-pixel error reporting (ez-pixel install)\n"
        f"EZCODER_PIXEL_KEY={KEY}\nPIXEL_INGEST_URL={collector.ingest_url}\n"
    )
    assert "ez-pixel>=0.2" in toml(project)["project"]["dependencies"]
    assert_idempotent(capsys, project, collector)

    crashed = run_python(project, ["-m", "plaintool", "twelve"], run_env(project))
    assert crashed.returncode == 1 and "ValueError" in crashed.stderr
    event = arrived(collector, "ValueError")
    assert event["level"] == "fatal" and event["stack"][0]["file"] == "plaintool/cli.py"

    # A checkout without .env (CI, another developer): the app runs, without a word.
    (project / ".env").rename(project / "env.saved")
    plain = {k: v for k, v in run_env(project).items() if "PIXEL_" not in k}
    no_key = run_python(project, ["-W", "error", "-m", "plaintool", "7"], plain)
    assert no_key.returncode == 0 and no_key.stdout == "7\n" and not no_key.stderr
    (project / "env.saved").rename(project / ".env")

    twice = "import runpy, plaintool.cli\nrunpy.run_path('plaintool/cli.py', run_name='__main__')"
    again = run_python(project, ["-c", twice], run_env(project))
    assert again.returncode == 0 and again.stdout == "12\n" and not again.stderr


def test_django_logging_merged_and_entry_points_wired(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("django_req", tmp_path)
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    settings = (project / "mysite/settings.py").read_text()
    assert "        'pixel': {'class': 'ez_pixel.PixelHandler', 'level': 'ERROR'},\n" in settings
    assert "'root': {\n        'handlers': ['console', 'pixel']," in settings
    assert (
        "'payments': {\n            'handlers': ['console', 'pixel']," in settings
    )  # no propagation
    assert "'class': 'logging.StreamHandler',  # to stderr" in settings
    for rel in ("mysite/wsgi.py", "mysite/asgi.py"):
        text = (project / rel).read_text()  # after Django's setup ran dictConfig(LOGGING)
        assert text.index("application = get_") < text.index("ez_pixel.init_pixel()")
        assert text.index("import ez_pixel\n") < text.index("os.environ.setdefault")
    assert "+ez-pixel>=0.2" in out and "+.env" in out  # requirements.txt, .gitignore
    assert (project / "requirements.txt").read_text().endswith("gunicorn\nez-pixel>=0.2\n")
    assert_parses(project, "mysite/settings.py", "mysite/wsgi.py", "mysite/asgi.py")
    assert_idempotent(capsys, project, collector)

    # Started the usual way (the WSGI module, the key in .env): a failing view gives one
    # event, and the logger LOGGING keeps from propagating reports too.
    script = (
        "import io, logging, ez_pixel\n"
        "from mysite.wsgi import application\n"
        "environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/total', 'SERVER_NAME': 'localhost',\n"
        "           'SERVER_PORT': '80', 'wsgi.input': io.BytesIO(), 'wsgi.url_scheme': 'http'}\n"
        "statuses = []\n"
        "application(environ, lambda status, headers: statuses.append(status))\n"
        "assert statuses == ['500 Internal Server Error'], statuses\n"
        "try:\n    {}['order']\n"
        "except KeyError:\n    logging.getLogger('payments').exception('charge failed')\n"
        "assert ez_pixel.flush_pixel(5)\n"
    )
    settings_env = {"DJANGO_SETTINGS_MODULE": "mysite.settings"}
    ran = run_python(project, ["-c", script], run_env(project, **settings_env))
    assert ran.returncode == 0, ran.stderr
    assert arrived(collector, "KeyError")["message"].startswith("charge failed")
    view = arrived(collector, "ZeroDivisionError")
    assert view["stack"][0]["file"] == "mysite/urls.py"
    types = [body["type"] for body in collector.accepted()]
    assert types.count("ZeroDivisionError") == 1 and "LogMessage" not in types, types


def test_django_without_logging_gets_a_minimal_one(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("django_req", tmp_path)
    settings = project / "mysite/settings.py"
    settings.write_text(settings.read_text().split("LOGGING")[0])
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert '+    "root": {"handlers": ["pixel"]},' in out
    logging_config: Dict[str, Any] = {"__file__": str(settings)}
    exec(compile(settings.read_text(), "settings.py", "exec"), logging_config)
    assert logging_config["LOGGING"]["handlers"]["pixel"]["class"] == "ez_pixel.PixelHandler"
    assert logging_config["LOGGING"]["disable_existing_loggers"] is False
    assert_idempotent(capsys, project, collector)


def test_django_logging_too_complex_is_left_with_a_snippet(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("django_req", tmp_path)
    settings = project / "mysite/settings.py"
    original = settings.read_text()
    for variant in (
        original + "LOGGING['root']['level'] = 'INFO'\n",
        original.split("LOGGING")[0] + "if DEBUG:\n    LOGGING = {'version': 1}\n",
        original.split("LOGGING")[0] + "from .logconf import LOGGING\n",
    ):
        settings.write_text(variant)
        before = settings.read_bytes()
        code, out = install_key(capsys, project, collector)
        assert code == 1, out  # something is left to do by hand
        assert "LOGGING is too complex to edit safely: left alone" in out
        assert '"class": "ez_pixel.PixelHandler"' in out  # the snippet to paste
        assert settings.read_bytes() == before
        assert "ez_pixel.init_pixel()" in (project / "mysite/wsgi.py").read_text()


def test_fastapi_with_structlog(collector: Any, capsys: Any, tmp_path: Path) -> None:
    project = copy("fastapi_uv", tmp_path)
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert "with uv.lock: uv" in out and "uv lock" in out
    assert "+    'ez-pixel[structlog]>=0.2',\n ]" in out  # their quotes, their trailing comma
    main_py = (project / "main.py").read_text()
    assert main_py.index("ez_pixel.init_pixel()") < main_py.index("app = FastAPI(")
    assert 'app = FastAPI(title="svc", lifespan=ez_pixel_lifespan)' in main_py
    assert main_py.index("async def ez_pixel_lifespan") < main_py.index("app = FastAPI(")
    setup = (project / "logging_setup.py").read_text()
    assert "from ez_pixel.structlog import PixelProcessor\n" in setup
    assert setup.index("PixelProcessor(),") < setup.index("format_exc_info")
    assert_parses(project, "main.py", "logging_setup.py")
    deps = toml(project)["project"]["dependencies"]
    assert deps[-1] == "ez-pixel[structlog]>=0.2" and len(deps) == 4
    assert_idempotent(capsys, project, collector)
    need("structlog")
    script = (
        "import structlog, ez_pixel\n"
        "import main  # the app's module: init_pixel(), then its structlog configuration\n"
        "try:\n    1 / 0\n"
        "except ZeroDivisionError:\n    structlog.get_logger().exception('total failed', order=7)\n"
        "ez_pixel.flush_pixel(5)\n"
    )
    ran = run_python(project, ["-c", script], run_env(project))
    assert ran.returncode == 0, ran.stderr
    assert arrived(collector, "ZeroDivisionError")["message"].startswith("total failed")


def test_celery_with_setup_cfg(collector: Any, capsys: Any, tmp_path: Path) -> None:
    project = copy("celery_cfg", tmp_path)
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert "     redis  # broker\n+    ez-pixel>=0.2\n" in out
    parser = configparser.ConfigParser()
    parser.read(project / "setup.cfg")
    assert parser.get("options", "install_requires").split() == [
        "celery>=5.3",
        "redis",
        "#",
        "broker",
        "ez-pixel>=0.2",
    ]
    app = (project / "tasks/celery_app.py").read_text()
    # After `import celery` (init_pixel then keeps a worker's errors), before the app.
    assert app.index("from celery import") < app.index("ez_pixel.init_pixel()")
    assert app.index("ez_pixel.init_pixel()") < app.index("app = Celery(")
    assert_parses(project, "tasks/celery_app.py")
    assert_idempotent(capsys, project, collector)


# -- choosing among several kinds ------------------------------------------------------


def test_ambiguous_kinds_without_a_terminal_take_the_most_likely(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("flask_celery_setuppy", tmp_path)
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert "no terminal to ask: wiring Flask, the most likely" in out
    assert "ez_pixel.init_pixel()" in (project / "web.py").read_text()
    assert "ez_pixel" not in (project / "worker.py").read_text()
    assert '+        "ez-pixel>=0.2",\n     ],' in out


def test_ambiguous_kinds_asked_on_a_terminal(
    collector: Any, capsys: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    project = copy("flask_celery_setuppy", tmp_path)
    monkeypatch.setattr(sys, "stdin", Terminal("7\n3\ny\n"))  # a wrong answer, all, apply
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert "1) Flask" in out and "2) Celery" in out and "3) all of them" in out
    assert "please answer a number from 1 to 3" in out
    for rel in ("web.py", "worker.py"):
        assert "ez_pixel.init_pixel()" in (project / rel).read_text()


def test_yes_takes_the_most_likely_and_a_refusal_changes_nothing(
    collector: Any, capsys: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    project = copy("flask_celery_setuppy", tmp_path)
    before = snapshot(project)
    monkeypatch.setattr(sys, "stdin", Terminal("2\nn\n"))  # Celery, then do not apply
    code, out = install_key(capsys, project, collector)
    assert code == 1 and "Nothing was changed" in out and snapshot(project) == before
    code, out = install_key(capsys, project, collector, "--yes")
    assert code == 0 and "--yes: wiring Flask, the most likely" in out
    code, out = install_key(capsys, project, collector, "--kind", "celery")
    assert "worker.py: call ez_pixel.init_pixel()" in out
    code, out = install_key(capsys, project, collector, "--kind", "django")
    assert code == 2 and "--kind django: not found here" in out


# -- safety ----------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_registers_nothing(capsys: Any, tmp_path: Path) -> None:
    for name in ("django_req", "flask_poetry", "fastapi_uv", "celery_cfg", "plain_pep621"):
        project = copy(name, tmp_path)
        before = snapshot(project)
        # Nothing listens on port 9: registering or verifying would fail.
        code, out = install(capsys, project, "--dry-run", "--ingest-url", "http://127.0.0.1:9/i")
        assert code == 0, out
        assert snapshot(project) == before
        assert "would register project" in out and "Registered" not in out
        assert "+EZCODER_PIXEL_KEY=<key from the server>" in out
        assert "Dry run: nothing was written" in out
        assert out.count("+++ b/") >= 3, out  # dependency, wiring, .env


def test_dry_run_shows_exactly_the_diff_that_is_then_written(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("django_req", tmp_path)
    _, dry = install_key(capsys, project, collector, "--dry-run")
    code, real = install_key(capsys, project, collector)
    assert code == 0, real
    shown = dry.split("Would change:\n")[1].split("\nDry run:")[0]
    assert shown == real.split("Changes:\n")[1].split("\nWrote ")[0]


def test_an_unreachable_server_changes_nothing(capsys: Any, tmp_path: Path) -> None:
    project = copy("flask_poetry", tmp_path)
    before = snapshot(project)
    code, out = install(capsys, project, "--ingest-url", "http://127.0.0.1:9/ingest", "--yes")
    assert code == 1 and "cannot register the project: cannot reach http://127.0.0.1:9" in out
    assert "(nothing was changed)" in out and snapshot(project) == before


def test_unparsable_files_are_left_alone_with_a_message(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    cli = project / "plaintool/cli.py"
    cli.write_text("import sys\n\ndef main(:\n    pass\n")
    before = snapshot(project)
    code, out = install_key(capsys, project, collector)
    assert code == 1, out
    version = "{}.{}".format(*sys.version_info[:2])
    assert f"! plaintool/cli.py: cannot parse it with Python {version} (line 3" in out
    assert "      ez_pixel.init_pixel()" in out  # the snippet to add by hand
    assert cli.read_bytes() == before["plaintool/cli.py"]
    assert "+++ b/pyproject.toml" in out  # the rest is done

    pyproject = project / "pyproject.toml"
    pyproject.write_text(before["pyproject.toml"].decode() + "broken = [\n")
    broken = pyproject.read_bytes()
    code, out = install_key(capsys, project, collector)
    assert code == 1 and "! pyproject.toml: cannot read it (line 13: " in out, out
    assert pyproject.read_bytes() == broken


def test_env_is_appended_to_and_its_values_are_kept(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    env_file = project / ".env"
    old = "DEBUG=1\n# local\nexport PIXEL_INGEST_URL='http://elsewhere:1/ingest'\nNAME=x"
    env_file.write_text(old)
    code, out = install_key(capsys, project, collector)
    assert code == 0 and ".env sets PIXEL_INGEST_URL to another value: left as it is" in out
    assert env_file.read_text() == (
        old + "\n# ez-pixel error reporting (ez-pixel install)\n" + f"EZCODER_PIXEL_KEY={KEY}\n"
    )
    (project / ".gitignore").write_text("*.pyc")
    before = env_file.read_bytes()
    _, out = install_key(capsys, project, collector)
    assert env_file.read_bytes() == before and ".env already sets EZCODER_PIXEL_KEY" in out
    assert (project / ".gitignore").read_text() == "*.pyc\n.env\n"


def test_nothing_outside_the_project_is_touched(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    (outside / "env").write_text("OTHER=1\n")
    project = copy("plain_pep621", tmp_path)
    (project / "shared.py").symlink_to(outside / "shared.py")
    (project / ".env").symlink_to(outside / "env")
    outside_before = snapshot(outside)
    code, out = install_key(capsys, project, collector)
    assert snapshot(outside) == outside_before
    assert "shared.py is a symlink outside the project: not read" in out
    assert ".env is a symlink to" in out and "outside the project: left alone" in out
    assert code == 1  # .env is left for the user
    assert "ez_pixel.init_pixel()" in (project / "plaintool/cli.py").read_text()
    code, out = install(capsys, tmp_path / "nowhere")
    assert code == 2 and "is not a directory" in out


# -- the editors on their own ----------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("[]", '["x"]'),
        ('["a"]', '["a", "x"]'),
        ('["a",]', '["a", "x",]'),
        ('[\n    "a",\n]', '[\n    "a",\n    "x",\n]'),
        ('[\n    "a"  # c\n]', '[\n    "a",  # c\n    "x"\n]'),
        ('[\n  "a",  # c\n  # d\n]', '[\n  "a",  # c\n  "x",\n  # d\n]'),
        ("[\n]", '[\n    "x",\n]'),
        ('["a" ) ]', None),
    ],
)
def test_append_element(before: str, after: Any) -> None:
    doc = scan(f"k = {before}") if ")" not in before else None
    if doc is None:
        assert append_element(before, 0, len(before) - 1, [(1, 4)], '"x"', "\n") is None
        return
    value = doc.entries[0].value
    spans = [(item.start - 4, item.end - 4) for item in value.items]
    new = append_element(before, 0, len(before) - 1, spans, '"x"', "\n")
    if after is not None:
        assert new == after
    assert new is not None and scan(f"k = {new}").entries[0].value.strings[-1] == "x"


def test_toml_scanner_agrees_with_tomllib() -> None:
    text = (
        "# top\n"
        'title = "a \\"quoted\\" \\u00e9"\n'
        "[project]\n"
        "name = 'x'  # c\n"
        'dependencies = [\n  "a[b]>=1",  # one\n  """c""",\n  [1, 2],\n]\n'
        'scripts = {run = "x.cli:main", "dotted.key" = 1}\n'
        "[[tool.list]]\n"
        "when = 1979-05-27 07:32:00Z\n"
        'nested = {a = {b = "c"}}\n'
    )
    doc = scan(text)
    assert doc.get((), ("title",)) is not None
    assert doc.get((), ("title",)).string == 'a "quoted" é'  # type: ignore[union-attr]
    deps = doc.get(("project",), ("dependencies",))
    assert deps is not None and deps.strings == ["a[b]>=1", "c"]
    assert doc.table(("project", "scripts"))["run"].string == "x.cli:main"
    data = toml_parser.loads(text)
    assert data["project"]["dependencies"][:2] == deps.strings
    for bad in ("a = ", "[t\n", 'a = "x\n', "a = [1,,]\n", "= 1\n"):
        with pytest.raises(TomlError):
            scan(bad)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"pyproject.toml": "[project]\nname = 'p'\ndependencies = []\n"},
            ("pyproject.toml", "dependencies = ['ez-pixel>=0.2']\n"),
        ),
        (
            {"pyproject.toml": '[project]\nname = "p"\nversion = "1"\n\n[tool.x]\na = 1\n'},
            ("pyproject.toml", 'version = "1"\ndependencies = ["ez-pixel>=0.2"]\n\n[tool.x]'),
        ),
        (
            {"pyproject.toml": "[tool.poetry]\nname = 'p'\n[tool.poetry.dependencies]\n"},
            ("pyproject.toml", "[tool.poetry.dependencies]\nez-pixel = '>=0.2'\n"),
        ),
        (
            {
                "pyproject.toml": "[project]\nname = 'p'\ndynamic = ['dependencies']\n"
                "[tool.setuptools.dynamic]\ndependencies = {file = ['reqs/run.txt']}\n",
                "reqs/run.txt": "flask\n",
            },
            ("reqs/run.txt", "flask\nez-pixel>=0.2\n"),
        ),
        (
            {"setup.cfg": "[options]\ninstall_requires = requests\n"},
            ("setup.cfg", "install_requires = requests\n    ez-pixel>=0.2\n"),
        ),
        (
            {"setup.cfg": "[options]\nzip_safe = False\n"},
            ("setup.cfg", None),
        ),
        (
            {"setup.py": "from setuptools import setup\nD = ['a']\nsetup(install_requires=D)"},
            ("setup.py", "D = ['a', 'ez-pixel>=0.2']\n"),
        ),
        (
            {"requirements.txt": "flask", "requirements-dev.txt": "pytest\n"},
            ("requirements.txt", "flask\nez-pixel>=0.2\n"),
        ),
        (
            {"requirements.txt": "flask==3.0 \\\n    --hash=sha256:00\n"},
            ("requirements.txt", None),
        ),
        (
            {
                "requirements.txt": "# This file is autogenerated by pip-compile\nflask==3.0\n",
                "requirements.in": "flask\n",
            },
            ("requirements.in", "flask\nez-pixel>=0.2\n"),
        ),
    ],
)
def test_dependency_formats(
    tmp_path: Path, files: Dict[str, str], expected: Tuple[str, Any]
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    project = Project(str(tmp_path))
    edit = add_dependency(project, find_packaging(project), Requirement())
    rel, fragment = expected
    if fragment is None:
        assert edit.change is None and edit.manual, edit.message
        return
    assert edit.change is not None, edit.message
    assert edit.change.rel == rel and fragment in edit.change.new, edit.change.new


def test_dependency_already_listed_and_structlog_extra(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("EZ_Pixel[structlog]>=0.1\n")
    project = Project(str(tmp_path))
    edit = add_dependency(project, find_packaging(project), Requirement(("structlog",)))
    assert edit.change is None and "already lists ez-pixel" in edit.message
    assert Requirement(("structlog",)).poetry('"') == (
        'ez-pixel = {version = ">=0.2", extras = ["structlog"]}'
    )


def test_one_module_with_the_app_and_structlog(collector: Any, capsys: Any, tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "requirements.txt").write_text("starlette\nstructlog\n")
    (project / "app.py").write_text(
        "import structlog\nfrom starlette.applications import Starlette\n\n"
        "structlog.configure(processors=[structlog.dev.ConsoleRenderer()])\n"
        "app = Starlette()\n"
    )
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert (
        (project / "app.py")
        .read_text()
        .startswith(
            "import structlog\nfrom starlette.applications import Starlette\n\n"
            "import ez_pixel\nimport contextlib\nimport typing\n"
            "from ez_pixel.structlog import PixelProcessor\n\ntry:"
        )
    )
    assert "processors=[PixelProcessor(), structlog.dev.ConsoleRenderer()]" in out
    assert "+ez-pixel[structlog]>=0.2" in out
    assert_idempotent(capsys, project, collector)
    repository = Path(__file__).resolve().parents[3]  # ez-pixel itself
    assert install(capsys, repository, "--dry-run")[0] == 2


def test_gitignore_patterns() -> None:
    assert gitignore_ignores_env(".env\n")
    assert gitignore_ignores_env("/.env")
    assert gitignore_ignores_env(".env*\n")
    assert gitignore_ignores_env("**/.env")
    assert not gitignore_ignores_env(".env\n!.env\n")
    assert not gitignore_ignores_env(".env/\nconfig/.env\n.envrc\n")


def test_crlf_and_bom_are_kept(collector: Any, capsys: Any, tmp_path: Path) -> None:
    project = copy("plain_pep621", tmp_path)
    cli = project / "plaintool/cli.py"
    cli.write_bytes(b"\xef\xbb\xbf" + cli.read_bytes().replace(b"\n", b"\r\n"))
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    data = cli.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"ez_pixel.init_pixel()\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_a_pixel_project_key_line_becomes_ezcoder_pixel_key(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    env_file = project / ".env"
    env_file.write_text(
        f"DEBUG=1\nexport PIXEL_PROJECT_KEY='{KEY}'\nPIXEL_INGEST_URL={collector.ingest_url}\n"
    )
    code, out = install(capsys, project)  # the key and the URL come from .env
    assert code == 0, out
    assert "rename PIXEL_PROJECT_KEY to EZCODER_PIXEL_KEY in .env (same key)" in out
    assert f"-export PIXEL_PROJECT_KEY='{KEY}'\n+EZCODER_PIXEL_KEY={KEY}\n" in out
    assert env_file.read_text() == (
        f"DEBUG=1\nEZCODER_PIXEL_KEY={KEY}\nPIXEL_INGEST_URL={collector.ingest_url}\n"
    )
    assert_idempotent(capsys, project, collector)


def test_an_entry_wired_by_the_ezcoder_installer_is_left_alone(
    collector: Any, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    cli = project / "plaintool/cli.py"
    # What install.ts's wirePythonEntry inserts at the top of an entry point.
    cli.write_text("import ez_pixel_init  # noqa: F401, E402  -- ez-pixel\n" + cli.read_text())
    before = cli.read_bytes()
    code, out = install_key(capsys, project, collector)
    assert code == 0, out
    assert "plaintool/cli.py imports ez_pixel_init (the ezcoder installer's init_pixel call)" in out
    assert cli.read_bytes() == before
