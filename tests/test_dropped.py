"""Errors dropped for want of a client are said once on stderr; text errors are reported."""

from pathlib import Path
from typing import Any

import ez_pixel
from helpers import assert_valid, run_script

DROPPED = "an error was dropped because ez-pixel is not configured"


def test_dropped_errors_are_said_once_per_process_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")  # no .env above the project
    code = """\
        import logging
        import threading

        import ez_pixel

        logging.basicConfig(format="LOG %(message)s")
        handler = ez_pixel.PixelHandler()
        log = logging.getLogger("shop")
        log.addHandler(handler)
        log.error("payment failed")
        results = [ez_pixel.report_pixel("x"), ez_pixel.report("y"),
                   ez_pixel.capture_exception(ValueError("z")),
                   ez_pixel.report_pixel("w", error="oops")]
        threads = [threading.Thread(target=ez_pixel.report_pixel, args=("t",)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(results)
    """
    result = run_script(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[None, None, None, None]"
    assert result.stderr.count(DROPPED) == 1
    line = next(line for line in result.stderr.splitlines() if DROPPED in line)
    assert line.startswith("ez-pixel: ") and "init_pixel()" in line
    assert "EZCODER_PIXEL_KEY" in line and ".env" in line
    assert "LOG payment failed" in result.stderr  # the app's own logging is untouched
    assert "LOG " + DROPPED not in result.stderr  # said by the SDK, never through logging


def test_a_configured_process_never_says_it(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        "import ez_pixel\nez_pixel.report_pixel('fine')\n",
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0 and DROPPED not in result.stderr
    assert collector.wait_for(1)[0]["message"] == "fine"


def test_report_with_a_text_error_is_a_manual_report(pixel: Any, events: Any) -> None:
    pixel()
    ids = []
    for reason in ("oops", "timeout"):
        ids.append(ez_pixel.report_pixel("sync failed", error=reason))
    ez_pixel.report("export failed", error={"code": 7})
    received = events(3)
    for event in received:
        assert_valid(event)
        assert event["type"] == "ManualReport" and event["manual_report"] is True
    assert [e["event_id"] for e in received[:2]] == ids
    assert [e["message"] for e in received] == [
        "sync failed: oops",
        "sync failed: timeout",
        "export failed: {'code': 7}",
    ]
    # One group per call site and message, whatever the text of the error.
    assert received[0]["fingerprint"] == received[1]["fingerprint"]
    assert received[0]["stack"][0]["fn"] == "test_report_with_a_text_error_is_a_manual_report"


def test_capture_exception_of_something_that_is_not_an_exception(pixel: Any, events: Any) -> None:
    pixel()
    ez_pixel.capture_exception("disk full")  # type: ignore[arg-type]
    (event,) = events(1)
    assert event["type"] == "ManualReport" and event["message"] == "disk full"
