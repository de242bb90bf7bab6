"""The ecosystem SDK's API (``packages/pixel-py``) works with ez-pixel, with the same meaning.

Every name and keyword of that SDK is exercised against a real local collector;
its README snippet and the init file its installer writes run unchanged but for
the key and URL values (``tests/compat_fixtures``, origin noted there).
"""

import json
from pathlib import Path
from typing import Any

import pytest

import ez_pixel
from ez_pixel import (
    DEFAULT_INGEST_URL,
    PixelClient,
    capture_exception,
    close_pixel,
    flush,
    init_pixel,
    report,
)
from ez_pixel.types import ReportInput
from helpers import KEY, assert_valid, run_script

FIXTURES = Path(__file__).parent / "compat_fixtures"


def _project(tmp_path: Path) -> Path:
    """A project directory: its pyproject.toml stops the ``.env`` search there."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    return tmp_path


def test_default_ingest_url_is_the_ecosystems_hosted_server() -> None:
    # packages/pixel-py/src/ez_pixel/runtime.py; the JS SDK has the same host and
    # appends /ingest to it (packages/pixel/src/install.ts).
    assert DEFAULT_INGEST_URL == "https://pixel-server.ngrout70.workers.dev/ingest"


def test_init_without_url_uses_the_default_and_sends_nothing_yet(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(_project(tmp_path))
    monkeypatch.delenv("PIXEL_INGEST_URL", raising=False)
    client = init_pixel(project_key=KEY)
    try:
        assert client.options.ingest_url == DEFAULT_INGEST_URL
        assert client.stats()["queued"] == 0  # nothing reported, nothing sent
    finally:
        close_pixel(timeout_s=0.1)


def test_pixel_client_is_what_init_pixel_returns(pixel: Any) -> None:
    assert PixelClient is ez_pixel.Client
    client = pixel()
    assert isinstance(client, PixelClient)
    assert client.project_key == KEY and client.runtime.startswith("python-")


def test_module_functions_with_the_ecosystems_keywords(collector: Any) -> None:
    client = init_pixel(
        project_key=KEY,
        ingest_url=collector.ingest_url,
        capture_uncaught=True,
        capture_unhandled_rejections=True,
        capture_logging_errors=True,
    )
    try:
        try:
            {}["sku"]
        except KeyError as error:
            assert capture_exception(error, level="warning")
        try:
            int("x")
        except ValueError as error:
            report("import failed", error=error, level="fatal")
        report("user clicked the broken button")
        assert flush(timeout_s=5.0) is True
        events = collector.wait_for(3)
    finally:
        close_pixel(timeout_s=5.0)
    assert client.stats()["pending"] == 0
    for event in events:
        assert_valid(event)
        assert event["manual_report"] is True
    by_type = {event["type"]: event for event in events}
    assert by_type["KeyError"]["level"] == "warning"
    assert by_type["ValueError"]["level"] == "fatal"
    assert "import failed" in by_type["ValueError"]["message"]
    assert by_type["ManualReport"]["message"] == "user clicked the broken button"
    assert (
        by_type["KeyError"]["stack"][0]["fn"]
        == "test_module_functions_with_the_ecosystems_keywords"
    )


def test_client_methods_with_the_ecosystems_keywords(pixel: Any, collector: Any) -> None:
    client = pixel()
    try:
        raise LookupError("no such plan")
    except LookupError as error:
        client.capture_exception(error, level="warning")
    client.report("quota almost used")
    client.report(ReportInput("cache rebuilt", level="warning", context={"region": "eu"}))
    assert client.flush(timeout_s=5.0) is True
    events = collector.wait_for(3)
    assert [e["manual_report"] for e in events] == [True, True, True]
    assert [e["type"] for e in events] == ["LookupError", "ManualReport", "ManualReport"]
    assert events[2]["level"] == "warning" and events[2]["message"] == "cache rebuilt"
    client.close(timeout_s=1.0)


def test_upstream_readme_snippet_runs_unchanged(tmp_path: Path, collector: Any) -> None:
    code = (FIXTURES / "pixel_py_readme.py").read_text().replace("pk_live_...", KEY)
    result = run_script(_project(tmp_path), code, ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    events = collector.wait_for(2)
    by_type = {event["type"]: event for event in events}
    assert set(by_type) == {"NameError", "ManualReport"}  # risky() is not defined
    assert "risky" in by_type["NameError"]["message"]
    assert by_type["ManualReport"]["message"] == "user clicked the broken button"
    assert all(event["manual_report"] for event in events)
    assert all(event["project_key"] == KEY for event in events)


def _installer_init_file(project: Path, base_url: str, key: str) -> None:
    text = (FIXTURES / "ez_pixel_init.py.tmpl").read_text()
    text = text.replace("@INGEST_URL@", f"{base_url}/ingest")
    (project / "ez_pixel_init.py").write_text(text.replace("@PROJECT_KEY@", json.dumps(key)))


def test_installer_init_file_runs_unchanged(tmp_path: Path, collector: Any) -> None:
    project = _project(tmp_path)
    _installer_init_file(project, collector.url, "pk_test_fromInitFile")
    # The installer also writes the key to .env; nothing exports it.
    (project / ".env").write_text("EZCODER_PIXEL_KEY=pk_test_fromDotEnv\n")
    app = """\
        import ez_pixel_init  # noqa: F401, E402  -- ez-pixel
        import logging

        logging.getLogger("shop").error("stock level unreadable")

        def checkout(cart):
            return cart["total"] / cart["items"]

        checkout({"total": 10, "items": 0})
    """
    result = run_script(project, app)
    assert result.returncode == 1 and "ZeroDivisionError" in result.stderr
    events = collector.wait_for(2)
    by_type = {event["type"]: event for event in events}
    assert set(by_type) == {"LogMessage", "ZeroDivisionError"}
    assert by_type["ZeroDivisionError"]["level"] == "fatal"
    assert by_type["LogMessage"]["message"] == "stock level unreadable"
    # The init file's literal key: its os.environ lookup does not read .env.
    assert {event["project_key"] for event in events} == {"pk_test_fromInitFile"}


def test_installer_init_file_with_the_key_exported(tmp_path: Path, collector: Any) -> None:
    project = _project(tmp_path)
    _installer_init_file(project, collector.url, "pk_test_fromInitFile")
    result = run_script(
        project,
        "import ez_pixel_init\nimport ez_pixel\nez_pixel.report_pixel('deploy check')\n",
        env={"EZCODER_PIXEL_KEY": "pk_test_exported"},
    )
    assert result.returncode == 0, result.stderr
    (event,) = collector.wait_for(1)
    assert event["project_key"] == "pk_test_exported"


@pytest.mark.parametrize(
    "close",
    [
        lambda: close_pixel(timeout_s=2.0),  # the ecosystem's SDK
        lambda: close_pixel(2.0),
        lambda: close_pixel(timeout=2.0),  # ez-pixel 0.2
        close_pixel,  # 0.1.0
    ],
)
def test_close_pixel_accepts_every_generations_timeout(pixel: Any, close: Any) -> None:
    pixel()
    close()
    assert ez_pixel.client.active_client() is None


def test_the_hosted_default_is_refused_in_tests(tmp_path: Path) -> None:
    """The safety net of tests/hosted_guard.py, here and in a child process."""
    import socket

    import hosted_guard

    with pytest.raises(OSError, match="hosted default"):
        socket.getaddrinfo(hosted_guard.HOSTED, 443)
    hosted_guard._attempts.pop()  # this test's own attempt is expected
    log = tmp_path / "child.log"
    code = f"import socket\nsocket.getaddrinfo({hosted_guard.HOSTED!r}, 443)\n"
    result = run_script(tmp_path, code, env={hosted_guard.LOG_VARIABLE: str(log)})
    assert result.returncode == 1 and "hosted default" in result.stderr
    assert log.read_text().split() == [hosted_guard.HOSTED]
