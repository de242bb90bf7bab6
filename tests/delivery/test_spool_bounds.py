"""The spool keeps the newest events within spool_max_events and spool_max_bytes."""

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import ez_pixel
from helpers import KEY
from servers import free_port


def spooled(directory: Path) -> List[Dict[str, Any]]:
    """The events waiting in the spool directory, oldest first."""
    names = sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    return [json.loads((directory / name).read_text()) for name in names]


def spool_while_unreachable(tmp_path: Path, count: int, **options: Any) -> List[str]:
    """Report ``count`` events to a server that is down, with a spool; their ids."""
    url = f"http://127.0.0.1:{free_port()}/ingest"
    ez_pixel.init_pixel(KEY, url, spool_dir=str(tmp_path), **options)
    try:
        ids = [ez_pixel.report_pixel(f"while down {n:02d}") for n in range(count)]
    finally:
        ez_pixel.close_pixel(timeout=2)
    assert None not in ids
    return ids  # type: ignore[return-value]


def test_the_spool_keeps_only_the_newest_spool_max_events(tmp_path: Path) -> None:
    ids = spool_while_unreachable(tmp_path, 10, spool_max_events=3)
    assert [event["event_id"] for event in spooled(tmp_path)] == ids[-3:]


def test_the_spool_keeps_only_the_newest_within_spool_max_bytes(tmp_path: Path) -> None:
    (tmp_path / "probe").mkdir()
    spool_while_unreachable(tmp_path / "probe", 1)
    (one,) = [p.stat().st_size for p in (tmp_path / "probe").iterdir()]
    limit = int(3.5 * one)  # room for three events of this size
    (tmp_path / "bounded").mkdir()
    ids = spool_while_unreachable(tmp_path / "bounded", 10, spool_max_bytes=limit)
    waiting = spooled(tmp_path / "bounded")
    sizes = [p.stat().st_size for p in (tmp_path / "bounded").iterdir()]
    assert len(waiting) == 3, (one, sizes)
    assert 0 < len(waiting) < 10 and sum(sizes) <= limit
    assert sum(sizes) + min(sizes) > limit  # nothing more would have fitted (same-size events)
    assert [event["event_id"] for event in waiting] == ids[-len(waiting) :]


def test_evicted_events_are_never_sent_and_the_rest_are_sent_first(
    tmp_path: Path, collector: Any
) -> None:
    ids = spool_while_unreachable(tmp_path, 6, spool_max_events=2)
    ez_pixel.init_pixel(KEY, collector.ingest_url, spool_dir=str(tmp_path))
    try:
        later = ez_pixel.report_pixel("after the outage")
        assert ez_pixel.flush_pixel(10)
    finally:
        ez_pixel.close_pixel(timeout=1)
    assert [event["event_id"] for event in collector.accepted()] == [*ids[-2:], later]
    assert spooled(tmp_path) == []


def test_while_the_server_is_unreachable_events_move_to_disk_and_are_counted(
    tmp_path: Path,
) -> None:
    ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{free_port()}/ingest", spool_dir=str(tmp_path))
    try:
        ids: List[Optional[str]] = []
        for wave in range(2):  # the second wave comes after the first is on disk
            ids += [ez_pixel.report_pixel(f"wave {wave}, event {n}") for n in range(3)]
            deadline = time.monotonic() + 20
            while len(spooled(tmp_path)) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.05)  # the worker moves them to disk while the app runs
        stats = ez_pixel.stats()
    finally:
        ez_pixel.close_pixel(timeout=1)
    assert sorted(event["event_id"] for event in spooled(tmp_path)) == sorted(ids)  # type: ignore[type-var]
    assert stats["spooled"] == 6 and stats["dropped"] == {} and stats["sent"] == 0
