"""``POST /ingest``: check an event as the hosted server does, store it, answer."""

from typing import Any, Dict, Tuple

from ez_pixel.contract import KEY_HEADER, validate_event

from .http import Handler, Reject, parse_json


def ingest(handler: Handler) -> None:
    """Validate like the hosted server, store, report to the collector, answer."""
    event: Any = None
    try:
        event = parse_json(handler.read_body())
        status, answer = _answer_event(handler, event)
    except Reject as reject:
        status, answer = reject.status, {"error": reject.error}
    collector = handler.collector
    collector.on_ingest(status, event, handler.header_dict())
    collector.echo_event(event, status, answer)
    handler.send_json(status, answer)


def _answer_event(handler: Handler, event: Any) -> Tuple[int, Dict[str, Any]]:
    """Apply the contract's checks in the server's order, then store the event."""
    if not isinstance(event, dict):
        raise Reject(400, "invalid json")
    error = validate_event(event)
    if error is not None:
        raise Reject(400, error)
    header_key = handler.headers.get(KEY_HEADER)
    if header_key is not None and header_key != event["project_key"]:
        raise Reject(400, "project_key mismatch")
    if not handler.collector.key_allowed(event["project_key"]):
        raise Reject(401, "unknown project_key")
    return handler.collector.store.ingest(event)
