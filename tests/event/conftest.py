"""Event-stage fixtures: an SDK client reporting to a strictly validating server."""

import logging
from typing import Any, Callable, Iterator, Tuple

import pytest

import ez_pixel
from helpers import KEY
from strict_server import StrictServer


@pytest.fixture
def strict() -> Iterator[Tuple[StrictServer, Callable[..., ez_pixel.Client]]]:
    """``(server, start)``: ``start(**options)`` runs ``init_pixel`` against a strict server."""
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    with StrictServer() as server:

        def start(**options: Any) -> ez_pixel.Client:
            return ez_pixel.init_pixel(KEY, server.ingest_url, **options)

        yield server, start
        ez_pixel.close_pixel(timeout=2)
    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)
