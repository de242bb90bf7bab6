"""The worker starts with init_pixel; the network waits for the first error."""

import threading

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer

pytestmark = pytest.mark.usefixtures("closing")


def test_init_starts_a_daemon_worker_and_nothing_touches_the_network_before_an_error() -> None:
    with FaultServer() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        workers = [t for t in threading.enumerate() if t.name == "ez-pixel-worker"]
        assert len(workers) == 1 and workers[0].daemon
        ez_pixel.flush_pixel(1)
        assert server.connections == 0
        for number in range(5):
            ez_pixel.report_pixel(f"error {number}")
        assert ez_pixel.flush_pixel(10)
        assert [body["message"] for body in server.bodies()] == [f"error {n}" for n in range(5)]
        assert server.connections == 1  # one kept-alive connection, events in order
