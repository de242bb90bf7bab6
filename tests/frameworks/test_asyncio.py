"""asyncio: errors nobody awaits, errors in loop callbacks, and a loop that never waits.

asyncio's default exception handler logs both on the ``asyncio`` logger, with
the exception as ``exc_info``: the event is the exception itself.
"""

import asyncio
import gc
import time
from typing import Any

import ez_pixel
from helpers import KEY, assert_valid
from servers import FaultServer


def test_example_reports_the_unretrieved_task_and_the_callback(fw: Any, collector: Any) -> None:
    result = fw.run([fw.python, "asyncio_app.py"], cwd=fw.examples, env=fw.env())
    assert result.returncode == 0, result.stderr
    assert "the loop carried on" in result.stdout
    assert "ez-pixel" not in result.stderr
    events = {e["type"]: e for e in collector.accepted()}  # the process flushed at exit
    assert sorted(events) == ["ConnectionError", "ZeroDivisionError"]
    assert len(collector.received) == 2

    task = events["ConnectionError"]
    assert_valid(task)
    assert task["logger"] == "asyncio" and task["level"] == "error"
    assert task["message"].startswith("Task exception was never retrieved")
    assert task["stack"][0]["fn"] == "refresh_prices" and task["stack"][0]["in_app"]
    assert task["code_context"]["file"] == "asyncio_app.py"

    callback = events["ZeroDivisionError"]
    assert callback["message"].startswith("Exception in callback record_tick(")  # 3.13: "()"
    assert callback["stack"][0]["fn"] == "record_tick" and callback["stack"][0]["in_app"]


async def fail(job: int) -> None:
    raise LookupError(f"job {job} failed")


def tick(job: int) -> None:
    raise ArithmeticError(f"tick {job} failed")


def test_the_event_loop_never_waits_for_the_network() -> None:
    """100 errors reported from the loop to a server that never answers: no stall."""
    with FaultServer(["hang"]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, shutdown_timeout=0.1)
        try:

            async def main() -> float:
                loop = asyncio.get_running_loop()
                started = time.monotonic()
                for job in range(50):
                    loop.create_task(fail(job))  # noqa: RUF006 (nobody awaits it: the point)
                    loop.call_soon(tick, job)
                for _ in range(3):
                    await asyncio.sleep(0)
                gc.collect()
                return time.monotonic() - started

            elapsed = asyncio.run(main())
            stats = ez_pixel.stats()
        finally:
            ez_pixel.close_pixel(timeout=0.1)
    assert stats["queued"] == 100, stats
    assert stats["sent"] == 0  # the server never answered: the loop did not wait for it
    assert elapsed < 1.0, elapsed  # a blocking send would take read_timeout (5 s) at least
