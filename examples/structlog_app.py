"""structlog and ez-pixel, both ways: pure structlog, and structlog routed through logging.

Run it against any collector (``ez-pixel serve`` starts one):

    PIXEL_PROJECT_KEY=pk_test_demo PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest \\
        python examples/structlog_app.py [pure|stdlib|both]

Each setup sends two events: a ``KeyError`` with its traceback (from
``log.exception``) and a ``warning`` message event; the values bound to the
logger arrive in each event's ``context`` field.
"""

import logging
import sys
import uuid
from typing import Any, Dict

import structlog

import ez_pixel
from ez_pixel.structlog import PixelProcessor

PRICES: Dict[str, int] = {"apple": 3, "pear": 4}


def configure_pure() -> None:
    """structlog alone: JSON lines on stdout, PixelProcessor before the renderer."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            PixelProcessor(level="warning"),  # before format_exc_info and the renderer
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )


def configure_stdlib() -> None:
    """structlog over logging: ProcessorFormatter renders, init_pixel's root handler stays.

    PixelProcessor reports the structlog calls; the root PixelHandler skips
    their records and still reports plain ``logging`` calls.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[structlog.stdlib.add_log_level],
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            PixelProcessor(level="warning"),  # before PositionalArgumentsFormatter
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )


def price_of(item: str) -> int:
    return PRICES[item]


def handle_checkout(log: Any, item: str, qty: int) -> str:
    """A request handler that logs its failure and answers 500."""
    structlog.contextvars.bind_contextvars(request_id=f"req-{uuid.uuid4().hex[:8]}")
    try:
        return f"200 total={price_of(item) * qty}"
    except KeyError:
        log.exception("checkout failed", item=item, qty=qty)
        return "500"
    finally:
        structlog.contextvars.clear_contextvars()


def run_shop(log: Any) -> None:
    handle_checkout(log, "apple", 2)
    handle_checkout(log, "kiwi", 1)  # KeyError: one exception event
    log.info("inventory checked")  # below the level: never an event
    log.warning("stock low", sku="pear", left=1)  # one warning message event


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    ez_pixel.init_pixel()  # key and URL from PIXEL_PROJECT_KEY / PIXEL_INGEST_URL
    if which in ("pure", "both"):
        configure_pure()
        run_shop(structlog.get_logger().bind(setup="pure"))
    if which in ("stdlib", "both"):
        configure_stdlib()
        run_shop(structlog.get_logger("shop").bind(setup="stdlib"))
    ez_pixel.flush_pixel(5)


if __name__ == "__main__":
    main()
