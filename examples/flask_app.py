"""Flask with ez-pixel: unhandled route errors, and an error handler that logs.

Run it (from ``examples/``)::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    flask --app flask_app run

then ``curl localhost:5000/orders/2/total`` (a bug: one event, ``KeyError``) and
``curl -X POST localhost:5000/orders/1/pay`` (a declined payment, logged by its
error handler: one event, ``PaymentDeclined``).
"""

from typing import Any, Tuple

from flask import Flask, jsonify

import ez_pixel

# Reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL. Flask logs every unhandled
# exception on app.logger, which propagates to the root logger: that is all.
ez_pixel.init_pixel()

app = Flask(__name__)

ORDERS = {1: {"item": "apple", "qty": 3}, 2: {"item": "kiwi", "qty": 1}}
PRICES = {"apple": 120, "pear": 90}


class PaymentDeclined(Exception):
    """The payment provider said no."""


def charge(order_id: int) -> None:
    """Ask the (imaginary) payment provider for the money."""
    raise PaymentDeclined(f"card declined for order {order_id}")


@app.get("/orders/<int:order_id>/total")
def order_total(order_id: int) -> Any:
    """The order's total in cents: Flask logs the KeyError and answers 500."""
    order = ORDERS[order_id]
    total = PRICES[order["item"]] * order["qty"]  # KeyError: nobody priced the kiwi
    return jsonify(order=order_id, total=total)


@app.post("/orders/<int:order_id>/pay")
def pay(order_id: int) -> Any:
    """Charge the order; a decline is handled by ``payment_declined``."""
    charge(order_id)
    return jsonify(order=order_id, paid=True)


@app.errorhandler(PaymentDeclined)
def payment_declined(error: PaymentDeclined) -> Tuple[Any, int]:
    """Log the decline with its traceback (one event) and answer 500."""
    app.logger.exception("payment failed")
    return jsonify(error="payment declined"), 500


@app.errorhandler(500)
def server_error(error: Exception) -> Tuple[Any, int]:
    """The 500 page. Flask has logged the exception already; logging it again is harmless."""
    app.logger.exception("served the 500 page")
    return jsonify(error="internal error"), 500
