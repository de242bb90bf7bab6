"""Runs every bug of the corpus once or more; the test maps events to bugs by their label."""

import asyncio
import logging
import sys
from typing import Any, Callable

from shop import calc, jobs, middleware, paths, payments

import ez_pixel

ez_pixel.init_pixel()
log = logging.getLogger("shop")


def bug(label: str, call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception:
        log.exception("[%s]", label)


bug("wrapped-zero", lambda: middleware.handle(calc.ratio, 1, 0))
bug("wrapped-key", lambda: middleware.handle(calc.price, {}, "kiwi"))
bug("wrapped-zero", lambda: middleware.handle(calc.ratio, 7, 0))
bug("wrapped-value", lambda: middleware.handle(calc.parse_order, {"qty": "x", "count": "1"}))
bug("implicit-key", lambda: middleware.lookup(calc.price, {}, "plum"))
bug("two-paths", lambda: paths.checkout("kiwi"))
bug("two-paths", lambda: paths.cart_view("fig"))
bug("parse-qty", lambda: calc.parse_order({"qty": "one", "count": "1"}))
bug("parse-zero", lambda: calc.parse_order({"qty": "3", "count": "0"}))
bug("method", lambda: calc.Cart([]).average())
bug("multiline", lambda: calc.total([1.0, 2.0], 0.5))
bug("venv-lib", lambda: payments.charge(0))
bug("venv-lib", lambda: payments.charge(-5))
bug("async-key", lambda: asyncio.run(jobs.run_all([{"id": 1}, {"ID": 2}])))
bug("async-key", lambda: asyncio.run(jobs.run_all([{"Id": 3}])))
bug("async-int", lambda: asyncio.run(jobs.convert("x")))

for order_id, millis, host in ((1042, 250, "10.0.0.7"), (99817, 1800, "10.2.3.4")):
    log.error(f"payment declined for order {order_id} after {millis}ms from {host}")
for card in ("3f2c1a9e-1111-4a2b-9c3d-0123456789ab", "00000000-aaaa-4bbb-8ccc-dddddddddddd"):
    log.error("card " + card + " expired")
for user in ("ann", "bob"):
    log.error("user %s failed to log in", user)

ez_pixel.flush_pixel(10)
sys.exit(0)
