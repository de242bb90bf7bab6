"""FastAPI/Starlette under a real uvicorn process, hit over HTTP.

uvicorn logs unhandled errors on ``uvicorn.error``, under its ``uvicorn``
logger, which its default logging config makes non-propagating: the root
handler never sees them. ``init_pixel`` reports them anyway, whether uvicorn
configured logging before the app was imported (``uvicorn module:app``) or
after (``uvicorn.run(app)`` in a script that called ``init_pixel`` first).
"""

import logging
import logging.config
import signal
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import ez_pixel
from helpers import KEY, assert_valid
from servers import FaultServer, free_port


@pytest.mark.parametrize("launch", ["uvicorn fastapi_app:app", "python fastapi_app.py"])
def test_endpoint_and_background_task_errors_arrive(fw: Any, collector: Any, launch: str) -> None:
    port = free_port()
    if launch.startswith("uvicorn"):
        argv = [fw.python, "-m", "uvicorn", "fastapi_app:app", "--port", str(port)]
    else:
        argv = [fw.python, "fastapi_app.py"]
    app = fw.start(argv, cwd=fw.examples, env=fw.env(PORT=str(port)))
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/orders/1/total")

    assert fw.http("GET", base + "/orders/1/total")[0] == 200
    assert fw.http("GET", base + "/orders/2/total")[0] == 500
    assert fw.http("GET", base + "/orders/2/invoice")[0] == 500
    assert fw.http("POST", base + "/orders/1/receipt")[0] == 200  # the task fails afterwards
    collector.wait_for(3, timeout=15)
    assert app.stop() in (0, -signal.SIGTERM)  # uvicorn >= 0.29 re-raises SIGTERM
    assert "ez-pixel" not in app.output()

    by_function = {e["stack"][0]["fn"]: e for e in collector.accepted()}
    assert sorted(by_function) == ["email_receipt", "invoice", "order_total"]
    assert len(collector.received) == 3
    for event in by_function.values():
        assert_valid(event)
        assert event["logger"] == "uvicorn.error" and event["level"] == "error"
        assert event["stack"][0]["file"] == "fastapi_app.py" and event["stack"][0]["in_app"]
    total = by_function["order_total"]
    assert total["type"] == "KeyError"
    assert total["message"] == "Exception in ASGI application: 'kiwi'"
    assert total["code_context"]["file"] == "fastapi_app.py"
    assert by_function["invoice"]["message"] == "Exception in ASGI application: 'sku'"
    receipt = by_function["email_receipt"]
    assert receipt["type"] == "ConnectionError"
    assert receipt["message"].endswith("mail server refused the receipt for order 1")


def test_shutdown_flushes_what_is_still_queued(fw: Any) -> None:
    """SIGTERM right after three errors, to a server slow to answer: all three arrive.

    uvicorn re-raises SIGTERM once shut down, killing the process before atexit
    runs; the example's lifespan flushes on shutdown instead.
    """
    port = free_port()
    with FaultServer(delay=0.3) as slow:
        env = fw.env(PIXEL_INGEST_URL=slow.ingest_url)
        argv = [fw.python, "-m", "uvicorn", "fastapi_app:app", "--port", str(port)]
        app = fw.start(argv, cwd=fw.examples, env=env)
        base = f"http://127.0.0.1:{port}"
        app.wait_until_up(base + "/orders/1/total")
        for _ in range(3):
            assert fw.http("GET", base + "/orders/2/total")[0] == 500
        app.stop()
        assert len(slow.bodies()) == 3, app.output()


def test_server_loggers_survive_reconfiguration(collector: Any, pixel: Any, events: Any) -> None:
    """uvicorn runs dictConfig on start, which drops handlers: the tap is a filter."""
    pixel()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"null": {"class": "logging.NullHandler"}},
            "loggers": {
                "uvicorn": {"handlers": ["null"], "level": "INFO", "propagate": False},
                "uvicorn.error": {"level": "INFO"},
            },
        }
    )
    try:
        raise OSError("address already in use")
    except OSError:
        logging.getLogger("uvicorn.error").exception("cannot bind")
    (event,) = events(1)
    assert event["logger"] == "uvicorn.error" and event["type"] == "OSError"
    ez_pixel.close_pixel()
    assert logging.getLogger("uvicorn.error").filters == []
    assert logging.getLogger("gunicorn.error").filters == []
    logging.getLogger("uvicorn.error").error("after close_pixel: not reported")
    ez_pixel.init_pixel(KEY, collector.ingest_url)  # a fresh start reports again, once
    logging.getLogger("uvicorn.error").error("reported once")
    assert [e["message"] for e in events(2)] == [
        "cannot bind: address already in use",
        "reported once",
    ]
    logging.getLogger("uvicorn").propagate = True  # restore what the test changed
