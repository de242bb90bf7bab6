"""The flood check comes before anything else is gathered on the caller's thread."""

import logging

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import BlackHole

pytestmark = pytest.mark.usefixtures("closing")


class Counted(Exception):
    """An exception, and a log argument, that count how often their text is read."""

    reads = 0

    def __str__(self) -> str:
        Counted.reads += 1
        return "counted"


def charge() -> None:
    raise Counted()  # the innermost frame, one below the loop's


@pytest.mark.parametrize("path", ["logging", "report_pixel"])
def test_a_flooding_error_is_dropped_before_anything_else_is_gathered(path: str) -> None:
    Counted.reads = 0
    log = logging.Logger("tests.promises.hot_loop")  # no root, no pytest capture: only ez-pixel
    log.addHandler(ez_pixel.PixelHandler())
    with BlackHole() as hole:  # the first event stays in flight: the queue does not drain
        ez_pixel.init_pixel(KEY, hole.ingest_url, queue_size=10, read_timeout=5)
        for _ in range(50):
            try:
                charge()
            except Counted as exc:
                if path == "logging":
                    log.error("hot loop %s", Counted(), exc_info=True)
                else:
                    ez_pixel.report_pixel("hot loop", error=exc)
        stats = ez_pixel.stats()
    assert stats["queued"] + stats["dropped"]["flood"] == 50, stats  # type: ignore[operator]
    assert stats["queued"] <= 2  # a tenth of the queue, plus the one in flight
    reads_per_event = 2 if path == "logging" else 1  # the message's argument, the exception
    assert Counted.reads == reads_per_event * stats["queued"]  # dropped ones were never read
