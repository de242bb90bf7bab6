"""Where the key and URL come from: argument > environment > the project's .env > default."""

import os
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import ez_pixel
from ez_pixel._environ import find_dotenv, parse_dotenv
from ez_pixel.options import make_options
from helpers import KEY, run_script

NAMES = ("PIXEL_PROJECT_KEY", "EZCODER_PIXEL_KEY", "PIXEL_INGEST_URL")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: Any) -> Path:
    """An empty project (``pyproject.toml`` marks its root) as the working directory."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_syntax() -> None:
    text = """
        # the installer's line, and a few a person might write
        EZCODER_PIXEL_KEY=pk_test_plain
        export PIXEL_PROJECT_KEY="pk_test_quoted"   # trailing comment
        PIXEL_INGEST_URL = 'http://127.0.0.1:9/ingest#not-a-comment'
        DATABASE_URL=postgres://secret
        PIXEL_DEBUG=1
        not a line at all
    """
    assert parse_dotenv(text) == {
        "EZCODER_PIXEL_KEY": "pk_test_plain",
        "PIXEL_PROJECT_KEY": "pk_test_quoted",
        "PIXEL_INGEST_URL": "http://127.0.0.1:9/ingest#not-a-comment",
    }


def test_dotenv_values_are_text_never_run(project: Path) -> None:
    values = parse_dotenv(
        f"PIXEL_PROJECT_KEY=$(touch {project}/ran) # inline\n"
        f'PIXEL_INGEST_URL="`touch {project}/ran2`"\n'
        "EZCODER_PIXEL_KEY=pk_test_first\nEZCODER_PIXEL_KEY=pk_test_later\n"
    )
    assert values["PIXEL_PROJECT_KEY"] == f"$(touch {project}/ran)"
    assert values["EZCODER_PIXEL_KEY"] == "pk_test_later"  # later lines win
    assert not (project / "ran").exists() and not (project / "ran2").exists()


def test_dotenv_is_found_upwards_and_not_past_the_project_root(project: Path) -> None:
    deep = project / "src" / "shop" / "views"
    deep.mkdir(parents=True)
    assert find_dotenv(str(deep)) is None  # the root marker stops the search
    (project / ".env").write_text("PIXEL_PROJECT_KEY=pk_test_root\n")
    assert find_dotenv(str(deep)) == str(project / ".env")
    (project / "src" / ".env").write_text("")
    assert find_dotenv(str(deep)) == str(project / "src" / ".env")  # the nearest wins
    workspace = project / "workspace"
    outer = workspace / "other-project"
    (outer / "inner").mkdir(parents=True)
    (outer / ".git").mkdir()
    (workspace / ".env").write_text("PIXEL_PROJECT_KEY=pk_test_not_this_project\n")
    assert find_dotenv(str(outer / "inner")) is None  # never above .git


CASES = [
    # (argument, env PIXEL_PROJECT_KEY, env EZCODER_PIXEL_KEY, .env lines) -> winner
    ("pk_test_arg", "pk_test_env", "pk_test_ez", "PIXEL_PROJECT_KEY=pk_test_file", "pk_test_arg"),
    (None, "pk_test_env", "pk_test_ez", "PIXEL_PROJECT_KEY=pk_test_file", "pk_test_env"),
    (None, None, "pk_test_ez", "PIXEL_PROJECT_KEY=pk_test_file", "pk_test_ez"),
    (
        None,
        None,
        None,
        "EZCODER_PIXEL_KEY=pk_test_file_ez\nPIXEL_PROJECT_KEY=pk_test_file",
        "pk_test_file",
    ),
    (None, None, None, "EZCODER_PIXEL_KEY=pk_test_file_ez", "pk_test_file_ez"),
]


@pytest.mark.parametrize(("argument", "env", "ezcoder", "dotenv", "winner"), CASES)
def test_key_precedence(
    project: Path,
    monkeypatch: Any,
    argument: Optional[str],
    env: Optional[str],
    ezcoder: Optional[str],
    dotenv: str,
    winner: str,
) -> None:
    if env:
        monkeypatch.setenv("PIXEL_PROJECT_KEY", env)
    if ezcoder:
        monkeypatch.setenv("EZCODER_PIXEL_KEY", ezcoder)
    (project / ".env").write_text(dotenv + "\n")
    options = make_options(argument, "http://127.0.0.1:9/ingest")
    assert options.project_key == winner


@pytest.mark.parametrize(
    ("argument", "env", "dotenv", "winner"),
    [
        ("http://127.0.0.1:1/a", "http://127.0.0.1:2/b", "http://127.0.0.1:3/c", "1/a"),
        (None, "http://127.0.0.1:2/b", "http://127.0.0.1:3/c", "2/b"),
        (None, None, "http://127.0.0.1:3/c", "3/c"),
        (None, None, None, ez_pixel.DEFAULT_INGEST_URL),
    ],
)
def test_url_precedence(
    project: Path,
    monkeypatch: Any,
    argument: Optional[str],
    env: Optional[str],
    dotenv: Optional[str],
    winner: str,
) -> None:
    if env:
        monkeypatch.setenv("PIXEL_INGEST_URL", env)
    if dotenv:
        (project / ".env").write_text(f"PIXEL_INGEST_URL={dotenv}\n")
    assert make_options(KEY, argument).ingest_url.endswith(winner)


def test_dotenv_never_changes_the_environment(project: Path) -> None:
    (project / ".env").write_text("PIXEL_PROJECT_KEY=pk_test_file\nOTHER=1\n")
    before: Dict[str, str] = dict(os.environ)
    assert make_options(None, "http://127.0.0.1:9/ingest").project_key == "pk_test_file"
    assert dict(os.environ) == before


def test_a_bad_key_in_dotenv_says_where_it_came_from(project: Path) -> None:
    (project / ".env").write_text("EZCODER_PIXEL_KEY=pk_prod_oops\n")
    with pytest.raises(ValueError, match=r"EZCODER_PIXEL_KEY in .*\.env.* is invalid"):
        make_options(None, "http://127.0.0.1:9/ingest")


def test_missing_key_names_every_place_it_is_read_from(project: Path) -> None:
    with pytest.raises(ValueError) as info:
        make_options(None, "http://127.0.0.1:9/ingest")
    for place in ("project_key=", "PIXEL_PROJECT_KEY", "EZCODER_PIXEL_KEY", ".env"):
        assert place in str(info.value)


def test_init_pixel_reads_the_projects_dotenv(project: Path, collector: Any) -> None:
    (project / ".env").write_text(
        f"EZCODER_PIXEL_KEY=pk_test_dotenv\nPIXEL_INGEST_URL={collector.ingest_url}\n"
    )
    (project / "app").mkdir()
    os.chdir(project / "app")  # the fixture's monkeypatch.chdir restores it
    ez_pixel.init_pixel()
    try:
        ez_pixel.report_pixel("configured by .env")
        (event,) = collector.wait_for(1, timeout=10)
    finally:
        ez_pixel.close_pixel()
    assert event["project_key"] == "pk_test_dotenv"


def test_handler_without_key_uses_the_dotenv_configuration(tmp_path: Path, collector: Any) -> None:
    (tmp_path / "manage.py").write_text("")
    (tmp_path / ".env").write_text(
        f"export PIXEL_PROJECT_KEY={KEY}\nPIXEL_INGEST_URL='{collector.ingest_url}'\n"
    )
    code = """\
        import logging
        import ez_pixel

        logging.getLogger().addHandler(ez_pixel.PixelHandler())
        logging.getLogger("billing").error("invoice %s lost", 7)
    """
    result = run_script(tmp_path, code)
    assert result.returncode == 0, result.stderr
    (event,) = collector.wait_for(1, timeout=10)
    assert event["message"] == "invoice 7 lost" and event["project_key"] == KEY
