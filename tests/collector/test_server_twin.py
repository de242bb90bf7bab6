"""The collector answers every recorded request exactly as the hosted server did.

``tests/fixtures/server_answers.json`` holds raw requests and the real pixel
server's answers (recorded by ``tools/record_server_answers.py``): valid
events, every field missing, mistyped and one UTF-16 unit over its limit, body
sizes at the cap in ASCII and multi-byte text, encodings, duplicates,
recurrence, the fingerprint cap, the management API, methods, paths and CORS.
"""

import json
import os
from typing import Any, Dict, List

from server_twin import differences, replay

from ez_pixel.collector import Collector

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(TESTS, "fixtures", "server_answers.json")


def _load() -> List[Dict[str, Any]]:
    with open(FIXTURE, encoding="utf-8") as file:
        return list(json.load(file)["steps"])


def _store_fill(collector: Collector) -> Any:
    """The cap's 10,000 fingerprints, written through the store (HTTP would take long)."""

    def fill(key: str, count: int, variables: Dict[str, str]) -> None:
        for i in range(count):
            event = {
                "event_id": f"evt-fill-{i}",
                "project_key": key,
                "fingerprint": f"fill-{i}",
                "type": "ValueError",
                "message": "m",
                "runtime": "python-3.12.3",
            }
            assert collector.store.ingest(event)[0] == 200

    return fill


def test_fixture_covers_the_issue() -> None:
    steps = _load()
    requests = [step for step in steps if "fill" not in step]
    assert len(requests) >= 80
    statuses = {step["answer"]["status"] for step in requests}
    assert {200, 201, 204, 400, 401, 403, 404, 413, 429, 500} <= statuses


def test_collector_answers_like_the_server() -> None:
    steps = _load()
    with Collector() as collector:
        got = replay(collector.port, steps, _store_fill(collector))
    expected = [step["answer"] for step in steps]
    assert differences(steps, expected, got) == []
