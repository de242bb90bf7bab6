"""Flask: ``init_pixel`` and ``app.logger``, through Flask's own test client."""

from typing import Any

import pytest

pytest.importorskip("flask")

from helpers import assert_valid


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
