"""The flood gate: one error repeating cannot crowd out the others."""

import logging
import time
from pathlib import Path
from typing import Any

import pytest

import ez_pixel
from helpers import KEY, run_script
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer

pytestmark = pytest.mark.usefixtures("closing")


def quiet_logger(name: str) -> logging.Logger:
    """A logger whose records reach only ez-pixel's root handler (not pytest's capture)."""
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers = [
        h for h in logging.getLogger().handlers if isinstance(h, ez_pixel.PixelHandler)
    ]
    return logger


def test_flood_of_one_error_does_not_crowd_out_another(tmp_path: Path) -> None:
    with FaultServer(delay=0.005) as server:
        result = run_script(
            tmp_path,
            """
            import logging, resource, sys, ez_pixel
            client = ez_pixel.init_pixel()
            log = logging.getLogger("flood")
            def hot():
                raise TimeoutError("cache timeout")
            rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            before = rss()
            for i in range(100_000):
                try:
                    hot()
                except TimeoutError:
                    log.exception("hot loop")
                if i == 50_000:
                    try:
                        {}["rare"]
                    except KeyError:
                        log.exception("rare error during the flood")
            grown_kb = rss() - before
            ez_pixel.flush_pixel(30)
            stats = ez_pixel.stats()
            print(grown_kb, stats["queued"], stats["dropped"].get("flood", 0),
                  stats["dropped"].get("queue_full", 0), stats["sent"])
            """,
            ingest_url=server.ingest_url,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        grown_kb, queued, flood, full, sent = map(int, result.stdout.split())
        types = [b["type"] for b in server.bodies()]
    assert "KeyError" in types
    assert queued + flood + full == 100_001 and sent == queued == len(types)
    assert grown_kb < 10_000  # peak RSS grew by less than 10 MB


def test_an_error_that_fills_its_share_of_the_queue_pauses(monkeypatch: Any) -> None:
    monkeypatch.setattr("ez_pixel._delivery.flood.FLOOD_PAUSE", 2.0)

    def fail(kind: type = ValueError) -> None:
        try:
            raise kind("same bug")
        except Exception:
            log.exception("failed")

    with FaultServer([{"status": 200, "delay": 0.5}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, queue_size=100)  # a share is 10
        log = quiet_logger("flood.pause")
        started = time.monotonic()
        fail()
        assert server.wait_for(lambda bodies: len(bodies) == 1)  # in flight for 0.5 s
        for _ in range(29):  # 10 wait, the rest are dropped
            fail()
        assert ez_pixel.flush_pixel(10)
        fail()  # still paused, though nothing of it waits any more
        fail(KeyError)  # another error is never held back
        assert ez_pixel.flush_pixel(10)
        assert ez_pixel.stats()["dropped"] == {"flood": 20}
        while time.monotonic() < started + 2.2:  # the pause ends
            time.sleep(0.05)
        fail()
        assert ez_pixel.flush_pixel(10)
        types = [b["type"] for b in server.bodies()]
    assert types == ["ValueError"] * 11 + ["KeyError", "ValueError"]
    assert ez_pixel.stats()["sent"] == 13


def test_the_gate_keeps_each_error_to_its_share_and_is_wary_whenever_it_may_refuse(
    monkeypatch: Any,
) -> None:
    """Random admits, departures and clock steps, checked against what the gate promises.

    At most a share of the queue per error; an error below its share and not
    refused for a whole pause is let in; and while the gate is not wary it
    refuses nothing (callers then skip their early look).
    """
    import random
    from collections import deque
    from types import SimpleNamespace

    from ez_pixel._delivery import flood

    now = [0.0]
    monkeypatch.setattr(flood.time, "monotonic", lambda: now[0])
    gate = flood.FloodGate(queue_size=30)  # a share is 3
    keys = ["a", "b", "c", "d"]
    queue: Any = deque()
    refused_at = {key: -10.0 for key in keys}
    rng = random.Random(7)
    wary_seen = calm_seen = 0
    for _ in range(20_000):
        step = rng.random()
        if step < 0.55:
            key = rng.choice(keys[:2] if rng.random() < 0.8 else keys)  # two hot errors
            below_share = sum(job.key == key for job in queue) < gate.limit
            job = SimpleNamespace(key=key)
            if gate.admit(job, queue):
                assert below_share
                queue.append(job)
            else:
                assert not below_share or now[0] - refused_at[key] < flood.FLOOD_PAUSE
                refused_at[key] = min(refused_at[key], now[0]) if below_share else now[0]
        elif step < 0.95 and queue:
            gate.leave(queue.popleft())
        else:
            now[0] += rng.choice((0.1, 0.6))
        if gate.wary:
            wary_seen += 1
        else:
            calm_seen += 1
            assert not any(gate.refuses(key) for key in keys), (now[0], list(queue))
    assert wary_seen > 1000 and calm_seen > 1000  # both states were visited often
