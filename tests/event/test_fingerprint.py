"""Fingerprints and paths: portable across machines, stable across edits, specific."""

import shutil
import textwrap
from pathlib import Path
from typing import Any, Dict, List

from helpers import assert_valid, run_script

APP = """
import json, ez_pixel
ez_pixel.init_pixel()

def parse(text):
    return json.loads(text)

def divide(a, b):
    return a / b

def handle(kind):
    if kind == "parse":
        parse("{bad")
    elif kind == "divide":
        divide(1, 0)
    elif kind == "divide-again":
        return divide(2, 0)
    elif kind == "type":
        raise ValueError("other type, same function")

import sys
try:
    handle(sys.argv[1] if len(sys.argv) > 1 else "divide")
except Exception:
    import logging
    logging.getLogger("app").exception("handler failed")
"""


def run_app(
    directory: Path, ingest_url: str, kind: str, collector: Any, prelude: str = ""
) -> Dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    seen = len(collector.wait_for(0, timeout=0))
    code = prelude + APP.replace("len(sys.argv) > 1", "True").replace("sys.argv[1]", repr(kind))
    result = run_script(directory, code, ingest_url=ingest_url)
    assert result.returncode == 0, result.stderr
    events: List[Dict[str, Any]] = collector.wait_for(seen + 1)
    assert_valid(events[-1])
    return events[-1]


def test_same_bug_same_fingerprint_on_two_install_paths(tmp_path: Path, collector: Any) -> None:
    first = run_app(tmp_path / "a" / "proj", collector.ingest_url, "divide", collector)
    second = run_app(
        tmp_path / "b" / "deep" / "er" / "proj", collector.ingest_url, "divide", collector
    )
    assert first["fingerprint"] == second["fingerprint"]
    assert first["stack"] == second["stack"]
    assert first["stack"][0] == {
        "file": "app.py",
        "line": 9,
        "col": first["stack"][0]["col"],
        "fn": "divide",
        "in_app": True,
    }


def test_fingerprint_survives_unrelated_lines_moving(tmp_path: Path, collector: Any) -> None:
    before = run_app(tmp_path / "v1", collector.ingest_url, "divide", collector)
    after = run_app(
        tmp_path / "v2", collector.ingest_url, "divide", collector, prelude="# a comment\n\nX = 1\n"
    )
    assert after["stack"][0]["line"] == before["stack"][0]["line"] + 3
    assert after["fingerprint"] == before["fingerprint"]


def test_fingerprint_separates_other_types_and_statements(tmp_path: Path, collector: Any) -> None:
    divide = run_app(tmp_path / "d", collector.ingest_url, "divide", collector)
    other_call = run_app(tmp_path / "d2", collector.ingest_url, "divide-again", collector)
    other_type = run_app(tmp_path / "t", collector.ingest_url, "type", collector)
    # the same failing statement reached from another call is the same bug
    assert other_call["fingerprint"] == divide["fingerprint"]
    assert other_type["fingerprint"] != divide["fingerprint"]
    parse = run_app(tmp_path / "p", collector.ingest_url, "parse", collector)
    assert parse["fingerprint"] not in (divide["fingerprint"], other_type["fingerprint"])


def test_library_frames_are_import_relative_and_not_in_app(tmp_path: Path, collector: Any) -> None:
    event = run_app(tmp_path / "lib", collector.ingest_url, "parse", collector)
    assert event["type"] == "json.decoder.JSONDecodeError"
    library = [f for f in event["stack"] if not f["in_app"] and f["line"]]
    assert library and all(f["file"].startswith("json/") for f in library)
    # json.loads -> decode -> raw_decode: the innermost stays, the rest are one marker
    assert event["stack"][1] == {
        "file": "json",
        "line": 0,
        "col": 0,
        "fn": "<2 library frames>",
        "in_app": False,
    }
    in_app = [f for f in event["stack"] if f["in_app"]]
    assert in_app[0]["fn"] == "parse" and in_app[0]["file"] == "app.py"
    assert event["code_context"]["file"] == "app.py"
    assert event["code_context"]["error_line"] == in_app[0]["line"]


def test_vendored_site_packages_inside_the_project_is_library(
    tmp_path: Path, collector: Any
) -> None:
    site = tmp_path / ".venv" / "lib" / "python3" / "site-packages" / "fakelib"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("def explode():\n    raise RuntimeError('from a library')\n")
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "jobs.py").write_text(
        "import fakelib\n\ndef run():\n    fakelib.explode()\n"
    )
    code = textwrap.dedent(
        f"""
        import sys; sys.path.insert(0, {str(site.parent)!r})
        import logging, ez_pixel
        ez_pixel.init_pixel(in_app_exclude=["mypkg.hidden"])
        from mypkg import jobs
        try:
            jobs.run()
        except RuntimeError:
            logging.getLogger("x").exception("job failed")
        """
    )
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    (event,) = collector.wait_for(1)
    assert event["stack"][0] == {
        **event["stack"][0],
        "file": "fakelib/__init__.py",
        "in_app": False,
    }
    assert event["stack"][1]["file"] == "mypkg/jobs.py" and event["stack"][1]["in_app"]
    assert event["code_context"]["file"] == "mypkg/jobs.py"
    shutil.rmtree(tmp_path / ".venv")


def test_in_app_include_and_exclude_by_module(tmp_path: Path, collector: Any) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("def fail():\n    raise OSError('x')\n")
    code = textwrap.dedent(
        """
        import logging, ez_pixel
        ez_pixel.init_pixel(in_app_exclude="core", in_app_include=["json"])
        import core, json
        try:
            core.fail()
        except OSError:
            logging.getLogger("x").exception("failed")
        try:
            json.loads("[")
        except ValueError:
            logging.getLogger("x").exception("failed")
        """
    )
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    core_event, json_event = collector.wait_for(2)
    assert core_event["stack"][0]["file"] == "core/__init__.py"
    assert core_event["stack"][0]["in_app"] is False
    assert json_event["stack"][0]["in_app"] is True
    assert json_event["code_context"]["file"].startswith("json/")
