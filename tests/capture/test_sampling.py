"""sample_rate: decided on the caller's thread, counted, within binomial bounds."""

import math
from typing import Any

import pytest

import ez_pixel
from helpers import KEY


def sampled(collector: Any, rate: float, count: int) -> int:
    """How many of ``count`` distinct reports arrived with ``sample_rate=rate``."""
    ez_pixel.init_pixel(KEY, collector.ingest_url, sample_rate=rate, queue_size=count * 2)
    try:
        ids = [ez_pixel.report_pixel(f"event {n}") for n in range(count)]
        assert ez_pixel.flush_pixel(20)
        arrived = collector.accepted()
        kept = [event_id for event_id in ids if event_id is not None]
        assert sorted(event["event_id"] for event in arrived) == sorted(kept)
        stats = ez_pixel.stats()
        assert stats["dropped"].get("sampled", 0) == count - len(kept)
        return len(kept)
    finally:
        ez_pixel.close_pixel(timeout=1)


def test_a_fractional_sample_rate_sends_about_that_fraction(collector: Any) -> None:
    count, rate = 400, 0.5
    arrived = sampled(collector, rate, count)
    spread = 5 * math.sqrt(count * rate * (1 - rate))  # 5 sigma: fails about once in 2 million
    assert count * rate - spread <= arrived <= count * rate + spread, arrived


@pytest.mark.parametrize("rate, expected", [(0.0, 0), (1.0, 60)])
def test_sample_rate_zero_sends_nothing_and_one_sends_everything(
    collector: Any, rate: float, expected: int
) -> None:
    assert sampled(collector, rate, 60) == expected
