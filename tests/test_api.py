"""The public API: init_pixel, report_pixel, flush_pixel, close_pixel, stats."""

import logging
import sys
import threading
from typing import Any

import pytest

import ez_pixel
from helpers import KEY, assert_valid


def test_version_is_exposed() -> None:
    assert ez_pixel.__version__.count(".") == 2


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "project_key is missing"),
        ("abc", "project_key"),
        ("pk_prod_abc", "must be 'pk_live_' or 'pk_test_'"),
        ("pk_test_" + "a" * 129, "1-128"),
        ("pk_test_has space", "invalid"),
    ],
)
def test_bad_project_key_says_which_and_why(key: str, words: str, monkeypatch: Any) -> None:
    monkeypatch.delenv("PIXEL_PROJECT_KEY", raising=False)
    with pytest.raises(ValueError, match="project_key") as info:
        ez_pixel.init_pixel(key, "http://127.0.0.1:1/ingest")
    assert words in str(info.value)
    assert ez_pixel.stats() == {}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://host/ingest", "scheme must be http or https"),
        ("http:///ingest", "no host"),
        ("127.0.0.1:8765/ingest", "scheme"),
    ],
)
def test_bad_ingest_url_says_which_and_why(url: str, words: str, monkeypatch: Any) -> None:
    monkeypatch.delenv("PIXEL_INGEST_URL", raising=False)
    with pytest.raises(ValueError, match="ingest_url") as info:
        ez_pixel.init_pixel(KEY, url)
    assert words in str(info.value)


def test_full_key_is_never_echoed_in_errors() -> None:
    secret = "pk_live_" + "s3cr3t" * 30
    with pytest.raises(ValueError) as info:
        ez_pixel.init_pixel(secret, "http://127.0.0.1:1/ingest")
    assert secret not in str(info.value)


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="queue_sise"):
        ez_pixel.init_pixel(KEY, "http://127.0.0.1:1/ingest", queue_sise=3)


def test_arguments_from_environment(monkeypatch: Any, collector: Any, events: Any) -> None:
    monkeypatch.setenv("PIXEL_PROJECT_KEY", KEY)
    monkeypatch.setenv("PIXEL_INGEST_URL", collector.ingest_url)
    client = ez_pixel.init_pixel()
    try:
        assert client.options.ingest_url == collector.ingest_url
        ez_pixel.report_pixel("from env")
        (event,) = events(1)
        assert event["message"] == "from env"
    finally:
        ez_pixel.close_pixel()


def test_second_init_with_other_options_raises_and_close_is_idempotent(pixel: Any) -> None:
    first = pixel()
    assert pixel() is first  # the same configuration again: a no-op
    with pytest.raises(RuntimeError, match="already initialized with a different configuration"):
        pixel(queue_size=7)
    ez_pixel.close_pixel()
    ez_pixel.close_pixel()
    pixel()  # usable again after close


def test_calls_without_init_are_harmless(monkeypatch: Any) -> None:
    monkeypatch.delenv("PIXEL_PROJECT_KEY", raising=False)
    ez_pixel.close_pixel()
    assert ez_pixel.report_pixel("nobody listens") is None
    assert ez_pixel.flush_pixel() is True
    assert ez_pixel.flush_pixel(0.1) is True


def test_report_pixel_message_only(pixel: Any, events: Any) -> None:
    pixel()
    event_id = ez_pixel.report_pixel("cache is cold", level="warning")
    (event,) = events(1)
    assert_valid(event)
    assert event["event_id"] == event_id
    assert event["manual_report"] is True and event["level"] == "warning"
    assert event["type"] == "ManualReport" and event["message"] == "cache is cold"
    assert event["stack"][0]["fn"] == "test_report_pixel_message_only"
    assert event["stack"][0]["file"] == "tests/test_api.py"


def test_report_pixel_with_error(pixel: Any, events: Any) -> None:
    pixel()
    try:
        {}["missing"]
    except KeyError as exc:
        event_id = ez_pixel.report_pixel("lookup failed", error=exc, level="fatal")
    (event,) = events(1)
    assert event["event_id"] == event_id
    assert event["type"] == "KeyError" and event["message"] == "lookup failed: 'missing'"
    assert event["level"] == "fatal" and event["manual_report"] is True
    assert event["stack"][0]["fn"] == "test_report_pixel_with_error"


def test_report_pixel_with_never_raised_error_uses_call_site(pixel: Any, events: Any) -> None:
    pixel()
    ez_pixel.report_pixel("built, not raised", error=RuntimeError("quota"))
    (event,) = events(1)
    assert event["type"] == "RuntimeError"
    assert event["stack"][0]["fn"] == "test_report_pixel_with_never_raised_error_uses_call_site"


def test_report_pixel_rejects_unknown_level(pixel: Any) -> None:
    pixel()
    with pytest.raises(ValueError, match="level"):
        ez_pixel.report_pixel("x", level="info")


def test_same_exception_is_reported_once_across_paths(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    try:
        raise LookupError("only once")
    except LookupError as exc:
        logging.getLogger("tests").exception("first path")
        assert ez_pixel.report_pixel("second path", error=exc) is None
    events(1)
    ez_pixel.flush_pixel(2)
    assert len(collector.received) == 1


def test_close_restores_hooks(pixel: Any) -> None:
    sys_hook, thread_hook = sys.excepthook, threading.excepthook
    pixel()
    assert sys.excepthook is not sys_hook and threading.excepthook is not thread_hook
    ez_pixel.close_pixel()
    assert sys.excepthook is sys_hook and threading.excepthook is thread_hook


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_thread_exception_in_process(pixel: Any, events: Any) -> None:
    pixel()

    def work() -> None:
        raise ConnectionError("worker lost its socket")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    (event,) = events(1)
    assert event["type"] == "ConnectionError" and event["level"] == "error"
    assert event["stack"][0]["fn"].endswith("work")


def test_flush_and_stats(pixel: Any, collector: Any) -> None:
    pixel()
    for i in range(20):
        ez_pixel.report_pixel(f"n{i}")
    assert ez_pixel.flush_pixel(10) is True
    stats = ez_pixel.stats()
    assert stats["queued"] == 20 and stats["sent"] == 20 and stats["pending"] == 0
    assert stats["dropped"] == {}
    assert len(collector.received) == 20


def test_wire_headers(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    ez_pixel.report_pixel("headers")
    events(1)
    _, _, headers = collector.received[0]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["content-type"] == "application/json"
    assert lowered["x-pixel-key"] == KEY
    assert lowered["user-agent"].startswith(f"ez-pixel/{ez_pixel.__version__} ")


def test_compat_names_of_0_1_0_import() -> None:
    from ez_pixel import CodeContext, Level, ReportInput, StackFrame, WireEvent  # noqa: F401

    assert ReportInput("m").level == "error"
