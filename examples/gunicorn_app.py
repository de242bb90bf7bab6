"""A plain WSGI app served by gunicorn, with ez-pixel.

Run it (from ``examples/``)::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    gunicorn --workers 2 gunicorn_app:app              # or with --preload

then ``curl localhost:8000/prices/kiwi``: gunicorn answers 500 and logs the
``KeyError`` on its non-propagating ``gunicorn.error`` logger, which
``init_pixel`` reports. With ``--preload`` the app (and ``init_pixel``) is loaded
once in the arbiter and the workers are forked from it: each worker starts
with its own empty queue, delivery thread and connection pool, and the arbiter
also reports a worker it finds killed (``Worker (pid:…) was sent SIGKILL!``).
Frameworks (Flask, Django) log their own errors before gunicorn sees them;
those are reported the same way, once.
"""

import json
import os
from typing import Any, Callable, Dict, Iterable, List, Tuple

import ez_pixel

ez_pixel.init_pixel()  # reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL

PRICES = {"apple": 120, "pear": 90}

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


def price_of(item: str) -> int:
    """The item's price in cents."""
    return PRICES[item]  # KeyError for an item nobody priced


def app(environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """``/health`` answers with the worker's pid; ``/prices/<item>`` with a price."""
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        body: Dict[str, Any] = {"ok": True, "pid": os.getpid()}
    elif path.startswith("/prices/"):
        item = path[len("/prices/") :]
        body = {"item": item, "price": price_of(item)}
    else:
        start_response("404 Not Found", [("content-type", "application/json")])
        return [b'{"error": "not found"}']
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps(body).encode()]
