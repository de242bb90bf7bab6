"""Fixtures for SDK tests: an initialised client reporting to a real collector."""

import logging
from typing import Any, Callable, Iterator

import pytest

import ez_pixel
from helpers import KEY


@pytest.fixture
def pixel(collector: Any) -> Iterator[Callable[..., ez_pixel.Client]]:
    """``pixel(**options)`` runs ``init_pixel`` against the collector; closed after the test."""
    root = logging.getLogger()
    handlers_before = list(root.handlers)

    def start(**options: Any) -> ez_pixel.Client:
        return ez_pixel.init_pixel(KEY, collector.ingest_url, **options)

    yield start
    ez_pixel.close_pixel(timeout=2)
    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)


@pytest.fixture
def events(collector: Any) -> Callable[..., list]:  # type: ignore[type-arg]
    """``events(n)``: flush, then the accepted event bodies once ``n`` have arrived."""

    def wait(count: int = 1, timeout: float = 10.0) -> list:  # type: ignore[type-arg]
        ez_pixel.flush_pixel(timeout)
        return collector.wait_for(count, timeout)

    return wait


@pytest.fixture
def closing() -> Iterator[None]:
    """Closes whatever ``init_pixel`` a test made, after it."""
    yield
    ez_pixel.close_pixel(timeout=1)
