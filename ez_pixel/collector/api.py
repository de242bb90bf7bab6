"""The management API: list and read error groups, resolve them, create projects."""

from urllib.parse import parse_qs, urlsplit

from .http import DIGITS_RE, Handler, Reject, parse_json

MAX_LIST_LIMIT = 1000
MAX_PROJECT_NAME_CHARS = 200


def list_errors(handler: Handler) -> None:
    """``GET /api/errors``: groups, most recently seen first."""
    query = parse_qs(urlsplit(handler.path).query)
    project_key = query.get("project_key", [None])[0]
    raw_limit = query.get("limit", ["100"])[0]
    if not DIGITS_RE.match(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
        raise Reject(400, "invalid limit")
    groups = handler.collector.store.list_groups(project_key, limit=int(raw_limit))
    handler.send_json(200, groups)


def get_error(handler: Handler, group_id: str) -> None:
    """``GET /api/errors/<id>``: one group with its stack and code context."""
    group = handler.collector.store.get_group(int(group_id))
    if group is None:
        raise Reject(404, "error not found")
    handler.send_json(200, group)


def resolve_error(handler: Handler, group_id: str) -> None:
    """``POST /api/errors/<id>/resolve``: mark fixed; a new occurrence reopens it."""
    if not handler.collector.store.resolve(int(group_id)):
        raise Reject(404, "error not found")
    handler.send_json(200, {"error_id": int(group_id), "resolved": True})


def create_project(handler: Handler) -> None:
    """``POST /api/projects`` ``{"name"}``: 201 ``{id, key, secret}``, 200 if it exists."""
    body = parse_json(handler.read_body())
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_PROJECT_NAME_CHARS:
        raise Reject(400, "invalid name")
    project, created = handler.collector.store.ensure_project(name.strip())
    handler.send_json(201 if created else 200, project)
