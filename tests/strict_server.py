"""A loopback ingest server that validates as the hosted one does, written out here.

It follows the hosted server's handler (``packages/pixel-server``): the body
is read as text and refused with 413 when longer than 65,536 UTF-16 code
units, parsed, then every length is checked in UTF-16 code units, as
JavaScript counts them. Stricter in one way: text the server would store
(``type``, ``message``, ``runtime``, ``stack``, ``code_context``) must be
valid Unicode, with no lone surrogate. Independent of ``ez_pixel.contract`` on
purpose: a test of the SDK's fitting must not use the SDK's own rules.
"""

import json
import logging
import re
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import ez_pixel
from servers import LoopbackHTTP, QuietHandler

PROJECT_KEY = re.compile(r"^pk_(?:live|test)_[A-Za-z0-9_-]{1,128}$")
FINGERPRINT = re.compile(r"^[A-Za-z0-9_:.@/-]{1,256}$")


def js_length(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units, lone surrogates counting one."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string inside ``value`` holds a surrogate code point (not storable text)."""
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def check(event: Any) -> Optional[str]:
    """The hosted server's error for ``event``, or None when it would store it."""
    if not isinstance(event, dict):
        return "invalid body"
    e = event
    if not isinstance(e.get("event_id"), str) or not e["event_id"]:
        return "invalid event_id"
    if js_length(e["event_id"]) > 128:
        return "event_id too long"
    if not isinstance(e.get("project_key"), str) or not PROJECT_KEY.match(e["project_key"]):
        return "invalid project_key"
    if not isinstance(e.get("fingerprint"), str) or not FINGERPRINT.match(e["fingerprint"]):
        return "invalid fingerprint"
    limits = {"type": 256, "message": 4096, "runtime": 64}
    for field, limit in limits.items():
        if not isinstance(e.get(field), str) or js_length(e[field]) > limit:
            return f"invalid {field}"
    if not isinstance(e.get("manual_report"), bool):
        return "invalid manual_report"
    if e.get("level") not in ("error", "warning", "fatal"):
        return "invalid level"
    if not isinstance(e.get("occurred_at"), str) or js_length(e["occurred_at"]) > 64:
        return "invalid occurred_at"
    stored = [e.get(f) for f in ("type", "message", "runtime", "stack", "code_context")]
    if has_lone_surrogate(stored):
        return "unstorable text"
    return None


class StrictServer(LoopbackHTTP):
    """Answers ``POST /ingest`` as the hosted server would; records every answer."""

    def __init__(self) -> None:
        self.answers: List[Tuple[int, Dict[str, Any], Any]] = []
        self._changed = threading.Condition()
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                text = self.rfile.read(length).decode("utf-8", "surrogatepass")
                status, answer, event = server.judge(text)
                self.send(status, json.dumps(answer).encode(), {"content-type": "application/json"})
                with server._changed:
                    server.answers.append((status, answer, event))
                    server._changed.notify_all()

        self._listen(Handler)

    @staticmethod
    def judge(text: str) -> Tuple[int, Dict[str, Any], Any]:
        """Status, answer and parsed event for one request body."""
        if js_length(text) > 65_536:
            return 413, {"error": "payload too large"}, None
        try:
            event = json.loads(text)
        except ValueError:
            return 400, {"error": "invalid json"}, None
        problem = check(event)
        if problem is not None:
            return 400, {"error": problem}, event
        return 200, {"error_id": "err_1", "created": True, "recurred": False}, event

    @property
    def ingest_url(self) -> str:
        """The URL to send events to."""
        return f"http://127.0.0.1:{self.port}/ingest"

    def wait_answers(self, count: int, timeout: float = 10.0) -> List[Tuple[int, Any, Any]]:
        """The first ``count`` answers, waiting for them up to ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.answers) >= count, timeout)
            assert len(self.answers) >= count, self.answers
            return list(self.answers)


@pytest.fixture
def strict() -> Iterator[Tuple[StrictServer, Callable[..., ez_pixel.Client]]]:
    """``(server, start)``: ``start(**options)`` runs ``init_pixel`` against a strict server."""
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    with StrictServer() as server:

        def start(**options: Any) -> ez_pixel.Client:
            return ez_pixel.init_pixel("pk_test_strict", server.ingest_url, **options)

        yield server, start
        ez_pixel.close_pixel(timeout=2)
    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)
