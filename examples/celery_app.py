"""Celery with ez-pixel: failing tasks and errors logged by tasks.

Run a worker (from ``examples/``) against your broker::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    export CELERY_BROKER_URL=redis://localhost:6379/0
    celery -A celery_app worker --loglevel=INFO

then, from Python, ``charge.delay(2, -5)`` (the task raises: one event, from
``celery.app.trace``, with the task's traceback) and ``refund.delay(2)`` (the
task logs the failure on its task logger: one event).
"""

import os

from celery import Celery
from celery.utils.log import get_task_logger

import ez_pixel

app = Celery(
    "celery_app",
    broker=os.environ.get("CELERY_BROKER_URL", "memory://"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://"),
)

# After Celery is imported: when the worker starts, Celery empties the root
# logger's handlers (worker_hijack_root_logger); init_pixel puts its handler
# back, and also reports from the non-propagating task loggers.
ez_pixel.init_pixel()

logger = get_task_logger(__name__)


class GatewayTimeout(Exception):
    """The payment gateway did not answer."""


@app.task
def charge(order_id: int, amount: int) -> int:
    """Charge ``amount`` cents for the order; a failure marks the task failed."""
    if amount <= 0:
        raise ValueError(f"cannot charge {amount} cents for order {order_id}")
    return amount


def call_gateway(order_id: int) -> None:
    """Talk to the (imaginary) payment gateway."""
    raise GatewayTimeout(f"no answer about order {order_id} within 10s")


@app.task
def refund(order_id: int) -> bool:
    """Refund the order; a gateway failure is logged and the task succeeds."""
    try:
        call_gateway(order_id)
    except GatewayTimeout:
        logger.exception("refund of order %s failed", order_id)
        return False
    return True
