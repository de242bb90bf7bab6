"""asyncio with ez-pixel: errors nobody awaits are reported too.

Run it (from ``examples/``)::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    python asyncio_app.py

Two events: the ``ConnectionError`` of a task nobody awaited ("Task exception
was never retrieved") and the ``ZeroDivisionError`` of a loop callback
("Exception in callback"); asyncio logs both on its ``asyncio`` logger with the
exception, and ez-pixel reports the exception itself, with its traceback.
Reporting costs the event loop a traceback walk and a queue append, never a
network round trip.
"""

import asyncio

import ez_pixel


async def refresh_prices() -> None:
    """A fire-and-forget job that fails."""
    raise ConnectionError("price feed unreachable")


def record_tick(ticks: int) -> None:
    """A loop callback that fails."""
    print(f"average load per tick: {100 / ticks}")  # ZeroDivisionError on the first tick


async def main() -> None:
    """Start a task nobody awaits and a callback that raises, then carry on."""
    loop = asyncio.get_running_loop()
    loop.create_task(refresh_prices())  # noqa: RUF006 (the bug shown: nobody keeps or awaits it)
    loop.call_soon(record_tick, 0)
    await asyncio.sleep(0.1)
    print("the loop carried on")


if __name__ == "__main__":
    ez_pixel.init_pixel()  # reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL
    asyncio.run(main())
