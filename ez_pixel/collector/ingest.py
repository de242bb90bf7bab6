"""``POST /ingest``: the hosted server's checks, in its order, with its answers.

Decode the body (413 past 65,536 UTF-16 code units), parse it (400 ``invalid
json``), validate the event (:func:`ez_pixel.contract.validate_event`), compare
a non-empty ``x-pixel-key`` header with the body's key, then store: 401 for a
key no project has, 429 for a new fingerprint past the project's cap, 500
where the server's ``JSON.stringify`` runs out of stack.
"""

from typing import Any, Dict, Optional, Tuple

from ez_pixel.contract import KEY_HEADER, MAX_BODY_CHARS, utf16_len, validate_event

from . import jsjson
from .http import INTERNAL_ERROR, BodyTooLarge, Handler, Reply, json_reply


def ingest(handler: Handler) -> Reply:
    """Answer one ``POST /ingest`` and report it (with the decoded body) to the collector."""
    text: Optional[str] = None
    try:
        text, status, answer = _answer(handler)
        reply = json_reply(status, answer)
    except jsjson.TooDeep:
        status, answer, reply = 500, {}, INTERNAL_ERROR
    handler.collector.on_ingest(status, text, handler.header_dict(), answer)
    return reply


def _answer(handler: Handler) -> Tuple[Optional[str], int, Dict[str, Any]]:
    """``(decoded body or None when over the cap, status, answer)`` for one request."""
    try:
        text = jsjson.decode_body(handler.read_body())
    except BodyTooLarge:
        return None, 413, {"error": "payload too large"}
    except ValueError:
        return None, 400, {"error": "invalid content-length"}
    if utf16_len(text) > MAX_BODY_CHARS:
        return None, 413, {"error": "payload too large"}
    try:
        event = jsjson.parse(text)
    except ValueError:
        return text, 400, {"error": "invalid json"}
    error = validate_event(event)
    if error is not None:
        return text, 400, {"error": error}
    header_key = handler.header(KEY_HEADER)
    if header_key and header_key != event["project_key"]:
        return text, 400, {"error": "project_key mismatch"}
    collector = handler.collector
    if collector.accept_any_key:
        collector.store.ensure_key(event["project_key"])
    status, answer = collector.store.ingest(event)
    return text, status, answer
