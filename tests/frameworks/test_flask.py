"""Flask: ``init_pixel`` and ``app.logger``, through Flask's own test client."""

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flask")

from helpers import assert_valid
from servers import free_port


def test_unhandled_route_error_is_one_event(fw: Any, collector: Any, events: Any) -> None:
    example = fw.load_example("flask_app")
    client = example.app.test_client()
    assert client.get("/orders/1/total").status_code == 200
    answer = client.get("/orders/2/total?coupon=SPRING", headers={"Cookie": "session=abc"})
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "internal error"}  # the 500 handler ran, and logged

    (event,) = events(1)
    assert_valid(event)
    assert event["type"] == "KeyError" and event["level"] == "error"
    assert event["message"] == "Exception on /orders/2/total [GET]: 'kiwi'"
    assert event["logger"] == "example_flask_app"
    inner = event["stack"][0]
    assert inner["fn"] == "order_total" and inner["in_app"]
    assert inner["file"] == "examples/flask_app.py"
    assert event["code_context"]["file"] == "examples/flask_app.py"
    assert event["request"] == {"method": "GET", "route": "/orders/<int:order_id>/total"}
    assert len(collector.received) == 1  # Flask's log and the 500 handler's: one report


def test_error_handler_that_logs_and_returns_500_is_one_event(
    fw: Any, collector: Any, events: Any
) -> None:
    example = fw.load_example("flask_app")
    answer = example.app.test_client().post("/orders/1/pay")
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "payment declined"}

    (event,) = events(1)
    assert event["type"] == "example_flask_app.PaymentDeclined"
    assert event["message"] == "payment failed: card declined for order 1"
    assert [f["fn"] for f in event["stack"] if f["in_app"]] == ["charge", "pay"]
    assert event["request"] == {"method": "POST", "route": "/orders/<int:order_id>/pay"}
    assert len(collector.received) == 1


def test_no_request_outside_a_request(fw: Any, events: Any) -> None:
    example = fw.load_example("flask_app")
    with example.app.app_context():  # an app context, say a CLI command: no request
        example.app.logger.error("nightly export failed")
    (event,) = events(1)
    assert event["type"] == "LogMessage" and "request" not in event


def test_debug_mode_error_is_one_event(fw: Any, collector: Any, events: Any) -> None:
    """``app.debug = True`` re-raises for the debugger instead of logging: still one event."""
    example = fw.load_example("flask_app")
    example.app.debug = True
    with pytest.raises(KeyError):
        example.app.test_client().get("/orders/2/total")
    (event,) = events(1)
    assert event["type"] == "KeyError"
    assert event["message"] == "Exception on /orders/2/total [GET]: 'kiwi'"
    assert event["logger"] == "example_flask_app"
    assert event["stack"][0]["fn"] == "order_total"
    assert event["request"] == {"method": "GET", "route": "/orders/<int:order_id>/total"}
    assert len(collector.received) == 1


#: werkzeug colours its log lines on POSIX; where colorama is installed (tox pulls it
#: into a plain virtualenv, a tox environment lacks it) colorama strips the codes again
#: on a stream that is no terminal. Either way the text between the codes is werkzeug's.
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")

RUN_DEBUG = """
import os
import flask_app
flask_app.app.run(port=int(os.environ["PORT"]), debug=True, use_reloader=False)
"""


@pytest.mark.parametrize(
    "launch",
    ["flask run", "flask run --debug", "flask run --debug --no-debugger", "app.run(debug=True)"],
)
def test_dev_server_error_is_one_event_in_every_mode(
    fw: Any, collector: Any, tmp_path: Path, launch: str
) -> None:
    port = free_port()
    if launch.startswith("flask"):
        argv = [fw.python, "-m", "flask", "--app", "flask_app", "run", "--port", str(port)]
        argv += [*launch.split()[2:], "--no-reload"]
    else:
        script = tmp_path / "run_debug.py"
        script.write_text(RUN_DEBUG)
        argv = [fw.python, str(script)]
    env = fw.env(PORT=str(port), PYTHONPATH=str(fw.examples))
    app = fw.start(argv, cwd=fw.examples, env=env)
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/orders/1/total")
    assert fw.http("GET", base + "/orders/2/total")[0] == 500
    (event,) = collector.wait_for(1)
    app.stop()
    assert len(collector.received) == 1
    assert event["type"] == "KeyError"
    assert event["message"] == "Exception on /orders/2/total [GET]: 'kiwi'"
    assert event["request"] == {"method": "GET", "route": "/orders/<int:order_id>/total"}
    # What werkzeug and Flask print is what they print without ez-pixel.
    output = ANSI_CODE.sub("", app.output())
    assert f"Running on http://127.0.0.1:{port}" in output
    assert '"GET /orders/2/total HTTP/1.1" 500' in output  # werkzeug's access line
    if "--debug" not in launch and "debug=True" not in launch:
        assert "ERROR in app: Exception on /orders/2/total [GET]" in output  # Flask's format
