"""A small app that fails the ways real programs fail; ``ez-pixel demo`` runs it.

Run it yourself against any collector:

    PIXEL_PROJECT_KEY=pk_test_demo PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest \
        python examples/demo_app.py
"""

import logging
import subprocess
import sys
import threading
from typing import Dict

import ez_pixel

log = logging.getLogger("shop")
PRICES: Dict[str, int] = {"apple": 3, "pear": 4}


def price_of(item: str) -> int:
    return PRICES[item]


def handle_checkout(request: Dict[str, str]) -> str:
    """A request handler that logs its failure and answers 500, as web apps do."""
    try:
        total = price_of(request["item"]) * int(request["qty"])
        return f"200 total={total}"
    except Exception:
        log.exception("checkout failed for %s", request["path"])
        return "500"


def sync_inventory() -> None:
    """A background job that crashes its thread."""
    stock = {"apple": 10}
    for item in PRICES:
        stock[item] -= 1


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="app: %(levelname)s %(name)s: %(message)s")
    ez_pixel.init_pixel()  # key and URL come from PIXEL_PROJECT_KEY / PIXEL_INGEST_URL

    handle_checkout({"path": "/checkout", "item": "apple", "qty": "2"})
    handle_checkout({"path": "/checkout", "item": "kiwi", "qty": "1"})  # KeyError
    handle_checkout({"path": "/checkout", "item": "pear", "qty": "two"})  # ValueError

    for attempt in (1, 2, 3):  # one group, three occurrences
        log.error("payment gateway timed out after %d ms", 3000 * attempt)

    worker = threading.Thread(target=sync_inventory, name="inventory-sync")
    worker.start()
    worker.join()

    ez_pixel.report_pixel("nightly report skipped: no data for yesterday", level="warning")

    # A child process that dies of an uncaught exception: reported as fatal.
    subprocess.run([sys.executable, __file__, "child"], check=False)


def child() -> None:
    ez_pixel.init_pixel()
    config: Dict[str, str] = {}
    print("child: connecting to", config["database_url"])


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        child()
    else:
        main()
