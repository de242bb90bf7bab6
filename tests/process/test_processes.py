"""Whole processes: uncaught exceptions, exit codes, stderr and shutdown bounds."""

import re
import time
from pathlib import Path
from typing import Any

from helpers import assert_valid, run_script
from servers import BlackHole

CRASH = """
import ez_pixel
ez_pixel.init_pixel()

def load_config(path):
    raise FileNotFoundError(f"no config at {path}")

load_config("settings.toml")
"""


def test_uncaught_main_thread_exception(tmp_path: Path, collector: Any) -> None:
    result = run_script(tmp_path, CRASH, ingest_url=collector.ingest_url)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("FileNotFoundError: no config at settings.toml")
    assert "ez-pixel" not in result.stderr
    (event,) = collector.wait_for(1)
    assert_valid(event)
    assert event["level"] == "fatal" and event["type"] == "FileNotFoundError"
    assert event["message"] == "no config at settings.toml"
    assert [f["fn"] for f in event["stack"]] == ["load_config", "<module>"]
    assert event["stack"][0]["file"] == "app.py" and event["stack"][0]["in_app"]
    assert event["code_context"]["file"] == "app.py"


def test_uncaught_thread_exception(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import threading, ez_pixel
        ez_pixel.init_pixel()
        def poll():
            raise TimeoutError("upstream timed out")
        t = threading.Thread(target=poll, name="poller")
        t.start(); t.join()
        print("main carried on")
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0
    assert "main carried on" in result.stdout
    assert "TimeoutError: upstream timed out" in result.stderr
    (event,) = collector.wait_for(1)
    assert event["level"] == "error" and event["type"] == "TimeoutError"
    assert event["stack"][0]["fn"] == "poll"


def test_logged_then_uncaught_is_one_event(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import logging, ez_pixel
        ez_pixel.init_pixel()
        try:
            int("x")
        except ValueError:
            logging.getLogger("app").exception("parse failed")
            raise
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 1
    (event,) = collector.wait_for(1)
    assert event["message"] == "parse failed: invalid literal for int() with base 10: 'x'"
    assert event["level"] == "error"
    assert len(collector.received) == 1


def test_exit_codes_and_interrupts_are_not_errors(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import sys, ez_pixel
        ez_pixel.init_pixel()
        ez_pixel.report_pixel("marker")
        if sys.argv[-1] == "interrupt":
            raise KeyboardInterrupt
        sys.exit(3)
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 3
    assert [e["message"] for e in collector.wait_for(1)] == ["marker"]
    result = run_script(
        tmp_path,
        "import sys; sys.argv.append('interrupt'); exec(open('app.py').read())",
        name="interrupt.py",
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 1 and "KeyboardInterrupt" in result.stderr
    assert [e["message"] for e in collector.wait_for(2)] == ["marker", "marker"]


def test_exit_is_bounded_when_the_server_never_answers(tmp_path: Path) -> None:
    with BlackHole() as hole:
        started = time.monotonic()
        result = run_script(tmp_path, CRASH, ingest_url=hole.ingest_url)
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 2.0 + 1.5, elapsed  # shutdown_timeout plus interpreter start and exit
    assert "FileNotFoundError: no config at settings.toml" in result.stderr
    assert "ez-pixel: 1 event(s) not delivered before exit" in result.stderr
    assert "Exception in thread" not in result.stderr


def test_events_logged_just_before_exit_arrive(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import logging, ez_pixel
        ez_pixel.init_pixel()
        for i in range(50):
            logging.getLogger("batch").error("row %d rejected", i)
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0
    # printed as without ez-pixel (logging's last resort), and nothing from ez-pixel itself
    assert result.stderr.splitlines() == [f"row {i} rejected" for i in range(50)]
    assert len(collector.wait_for(50)) == 50


def test_reporting_starts_no_process(tmp_path: Path, collector: Any) -> None:
    # Python 3.8's uuid module runs `uname -p` when imported: a fork of the
    # whole app, from its own thread, for an event id.
    result = run_script(
        tmp_path,
        """
        import logging, sys, ez_pixel
        started = []
        sys.addaudithook(
            lambda event, args: started.append(event)
            if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.fork")
            else None
        )
        ez_pixel.init_pixel()
        event_id = ez_pixel.report_pixel("manual", level="warning")
        try:
            {}["missing"]
        except KeyError:
            logging.getLogger("app").exception("lookup failed")
        assert ez_pixel.flush_pixel(10)
        print(event_id)
        print(started)
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0, result.stderr
    event_id, started = result.stdout.split("\n")[:2]
    assert started == "[]"
    events = collector.wait_for(2)
    assert events[0]["event_id"] == event_id
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", event_id
    )
    assert (
        re.fullmatch(r"[0-9a-f-]{36}", events[1]["event_id"]) and events[1]["event_id"] != event_id
    )


def test_init_pixel_changes_nothing_the_app_prints(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import logging, ez_pixel
        ez_pixel.init_pixel()
        logging.getLogger("app").warning("disk almost full")   # lastResort prints WARNING+
        logging.getLogger("app").error("job failed")
        logging.basicConfig(level=logging.INFO, format="configured %(levelname)s %(message)s")
        logging.getLogger("app").info("basicConfig still works after init_pixel")
        logging.getLogger("app").error("reported once, printed once")
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines == [
        "disk almost full",
        "job failed",
        "configured INFO basicConfig still works after init_pixel",
        "configured ERROR reported once, printed once",
    ]
    assert [e["message"] for e in collector.wait_for(2)] == [
        "job failed",
        "reported once, printed once",
    ]


def test_no_double_printing_when_the_app_configured_logging_first(
    tmp_path: Path, collector: Any
) -> None:
    result = run_script(
        tmp_path,
        """
        import logging, ez_pixel
        logging.basicConfig(format="app %(message)s")
        ez_pixel.init_pixel()
        logging.getLogger("x").error("once")
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.stderr.splitlines() == ["app once"]
    assert len(collector.wait_for(1)) == 1
