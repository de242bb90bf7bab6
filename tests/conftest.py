"""Shared fixtures: a real local collector and valid wire events."""

import uuid
from typing import Any, Dict, Iterator

import hosted_guard
import pytest

from ez_pixel.testing import RecordingCollector, capture_events

_HOSTED_LOG = hosted_guard.install()


def make_event(**overrides: Any) -> Dict[str, Any]:
    """Return a valid wire event; keyword arguments replace or add fields."""
    event: Dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "project_key": "pk_test_abc123",
        "fingerprint": "0123456789abcdef",
        "type": "ValueError",
        "message": "invalid literal for int() with base 10: 'x'",
        "stack": [
            {"file": "app/views.py", "line": 42, "col": 9, "fn": "parse_qty", "in_app": True},
            {"file": "app/main.py", "line": 10, "col": 5, "fn": "handle", "in_app": True},
        ],
        "code_context": {
            "file": "app/views.py",
            "error_line": 42,
            "lines": ["def parse_qty(text):", "    qty = text.strip()", "    return int(qty)"],
            "start_line": 40,
        },
        "runtime": "python-3.11.7",
        "manual_report": False,
        "level": "error",
        "occurred_at": "2026-04-29T14:22:01Z",
    }
    event.update(overrides)
    return event


@pytest.fixture
def collector() -> Iterator[RecordingCollector]:
    """A started recording collector on 127.0.0.1 and a free port, stopped after."""
    with capture_events() as server:
        yield server


from sdk_fixtures import events, pixel  # noqa: E402,F401  (SDK fixtures)
from strict_server import strict  # noqa: E402,F401  (a server that validates as the hosted one)


@pytest.fixture(autouse=True)
def _never_the_hosted_default(monkeypatch: Any) -> Iterator[None]:
    """Fail loudly when a test (or a process it started) tried to reach DEFAULT_INGEST_URL.

    The developer's own ``EZCODER_PIXEL_KEY`` must not reach tests either.
    """
    monkeypatch.delenv("EZCODER_PIXEL_KEY", raising=False)
    before = hosted_guard.attempts(_HOSTED_LOG)
    yield
    if hosted_guard.attempts(_HOSTED_LOG) > before:
        pytest.fail(
            f"this test tried to send to the hosted default ({hosted_guard.HOSTED}); "
            "pass ingest_url or set PIXEL_INGEST_URL to a local collector"
        )


#: Projects ``install`` is tried on, some with test suites of their own: not ours to collect.
collect_ignore_glob = ["install_fixtures/*"]
