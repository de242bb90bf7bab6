"""FastAPI under uvicorn with ez-pixel: endpoint and background-task errors.

Run it (from ``examples/``)::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    uvicorn fastapi_app:app          # or: python fastapi_app.py

then ``curl localhost:8000/orders/2/total`` (a bug in an async endpoint),
``curl localhost:8000/orders/2/invoice`` (in a sync one) and
``curl -X POST localhost:8000/orders/1/receipt`` (a background task that fails
after the response was sent): one event each, from ``uvicorn.error``.
On shutdown the lifespan flushes what is still queued: uvicorn stops on SIGTERM
by re-raising it once it has shut down, which kills the process before the
exit flush ``init_pixel`` registers (an ``atexit`` function) can run.
"""

import contextlib
import os
from typing import AsyncIterator, Dict

from fastapi import BackgroundTasks, FastAPI

import ez_pixel

# Reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL. uvicorn logs unhandled errors on
# its non-propagating "uvicorn.error" logger; init_pixel reports those too.
ez_pixel.init_pixel()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Flush on shutdown: uvicorn ends by re-raising SIGTERM, and so skips atexit."""
    yield
    ez_pixel.flush_pixel(timeout=2)


app = FastAPI(lifespan=lifespan)

ORDERS = {1: {"item": "apple", "qty": 3}, 2: {"item": "kiwi", "qty": 1}}
PRICES = {"apple": 120, "pear": 90}


@app.get("/orders/{order_id}/total")
async def order_total(order_id: int) -> Dict[str, int]:
    """The order's total in cents."""
    order = ORDERS[order_id]
    total = PRICES[order["item"]] * order["qty"]  # KeyError: nobody priced the kiwi
    return {"order": order_id, "total": total}


@app.get("/orders/{order_id}/invoice")
def invoice(order_id: int) -> Dict[str, str]:
    """A sync endpoint (run in a thread): the invoice's file name."""
    order = ORDERS[order_id]
    return {"invoice": f"invoice-{order_id}-{order['sku']}.pdf"}  # KeyError: 'sku'


def email_receipt(order_id: int) -> None:
    """Runs after the response was sent."""
    raise ConnectionError(f"mail server refused the receipt for order {order_id}")


@app.post("/orders/{order_id}/receipt")
async def send_receipt(order_id: int, tasks: BackgroundTasks) -> Dict[str, bool]:
    """Queue the receipt e-mail as a background task."""
    tasks.add_task(email_receipt, order_id)
    return {"queued": True}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
