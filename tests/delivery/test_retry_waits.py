"""How long the worker waits before a retry, read from its debug output (no timing)."""

from typing import Any

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer

pytestmark = pytest.mark.usefixtures("closing")


def test_retry_after_is_capped_at_sixty_seconds(capfd: Any) -> None:
    with FaultServer([{"status": 503, "retry_after": 100000}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("rate limited for a day")
        assert ez_pixel.flush_pixel(1.0) is False  # waiting, not retrying at once
        assert len(server.bodies()) == 1
        assert ez_pixel.stats()["retried"] == 1
        ez_pixel.close_pixel(timeout=0.2)  # close wakes the wait
    err = capfd.readouterr().err
    waits = [line for line in err.splitlines() if "backing off" in line]
    assert waits == ["ez-pixel: backing off 60.0s"], err


def test_a_short_retry_after_is_used_as_given(capfd: Any) -> None:
    with FaultServer([{"status": 429, "retry_after": 2.5}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("rate limited briefly")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    waits = [line for line in capfd.readouterr().err.splitlines() if "backing off" in line]
    assert waits == ["ez-pixel: backing off 2.5s"]


def test_without_retry_after_the_backoff_doubles(capfd: Any) -> None:
    with FaultServer([503, 503, 503]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("flaky")
        assert ez_pixel.flush_pixel(10)
        tries = server.bodies()
    # Every try is the same event: its id and the time it occurred (1.4 s apart) never change.
    assert len(tries) == 4 and len({(b["event_id"], b["occurred_at"]) for b in tries}) == 1
    waits = [line for line in capfd.readouterr().err.splitlines() if "backing off" in line]
    assert waits == [f"ez-pixel: backing off {s}s" for s in ("0.2", "0.4", "0.8")]
