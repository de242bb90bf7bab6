"""``init_pixel`` again: the same configuration is a no-op, a different one says what differs."""

import logging
from pathlib import Path
from typing import Any

import pytest

import ez_pixel
from helpers import KEY


def test_same_configuration_returns_the_same_client_and_installs_nothing_more(
    pixel: Any, collector: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    import sys
    import threading

    first = pixel(queue_size=50)
    hooks = (sys.excepthook, threading.excepthook)
    handlers = list(logging.getLogger().handlers)
    monkeypatch.chdir(tmp_path)  # a test suite's chdir does not make it "different"
    assert pixel(queue_size=50) is first
    assert ez_pixel.init_pixel(KEY, collector.ingest_url, queue_size="50") is first
    assert (sys.excepthook, threading.excepthook) == hooks
    assert logging.getLogger().handlers == handlers
    logging.getLogger("app").error("reported once")
    ez_pixel.flush_pixel(5)
    assert [e["message"] for e in collector.wait_for(1)] == ["reported once"]


def test_a_factorys_own_before_send_is_the_same_configuration(pixel: Any) -> None:
    def create_app() -> Any:
        return pixel(before_send=lambda event: event)  # a new function object each call

    assert create_app() is create_app()
    with pytest.raises(RuntimeError, match="before_send"):
        pixel(before_send=lambda event: None)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"project_key": "pk_test_other"}, "project_key: 'pk_test_ab…' -> 'pk_test_ot…'"),
        ({"ingest_url": "http://me:s3cret@127.0.0.1:9/ingest"}, "-> 'http://…@127.0.0.1:9/ingest'"),
        ({"sample_rate": 0.5}, "sample_rate: 1.0 -> 0.5"),
        ({"capture_logging_errors": False}, "capture_logging_errors: True -> False"),
    ],
)
def test_different_configuration_raises_naming_the_difference(
    pixel: Any, collector: Any, change: Any, named: str
) -> None:
    first = pixel()
    arguments = {"project_key": KEY, "ingest_url": collector.ingest_url, **change}
    with pytest.raises(RuntimeError) as info:
        ez_pixel.init_pixel(**arguments)
    assert named in str(info.value)
    assert "close_pixel() first" in str(info.value)
    assert KEY not in str(info.value)  # the key is never shown whole
    assert ez_pixel.client.active_client() is first  # the first one keeps working


def test_flask_app_factory_called_twice(collector: Any, monkeypatch: Any) -> None:
    import flask

    monkeypatch.setenv("PIXEL_PROJECT_KEY", KEY)
    monkeypatch.setenv("PIXEL_INGEST_URL", collector.ingest_url)

    def create_app() -> Any:
        app = flask.Flask("shop")
        ez_pixel.init_pixel()

        @app.route("/checkout")
        def checkout() -> str:
            raise ZeroDivisionError("no items in cart")

        return app

    try:
        first, second = create_app(), create_app()  # as test suites and reloaders do
        for app in (first, second):
            assert app.test_client().get("/checkout").status_code == 500
        ez_pixel.flush_pixel(5)
        events = collector.wait_for(2)
    finally:
        ez_pixel.close_pixel()
    assert [e["type"] for e in events] == ["ZeroDivisionError", "ZeroDivisionError"]
    assert len(collector.accepted()) == 2  # one event per failing request, never two
