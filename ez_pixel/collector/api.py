"""Projects and the management API, answered as the hosted server answers them.

``POST /api/projects`` is open (rate-limited to 100 new projects an hour);
``GET /api/projects/:id/errors[?status=]`` and ``GET``/``PATCH``/``DELETE
/api/errors/:id`` need ``Authorization: Bearer <the project's sk_live_ secret>``
and only ever show that project's groups.
"""

import re
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs

from ez_pixel.contract import utf16_len

from . import jsjson
from .http import INTERNAL_ERROR, BodyTooLarge, Handler, Reply, json_reply
from .store import PatchError, Row, now_ms

PROJECT_CREATION_WINDOW_MS = 60 * 60 * 1000
PROJECT_CREATION_MAX_PER_HOUR = 100
MAX_PROJECT_NAME_UNITS = 100
# JavaScript's \s, and ``$`` that does not accept a trailing newline.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SECRET_RE = re.compile(rf"^Bearer[{_JS_SPACE}]+(sk_live_[a-f0-9]{{64}})\Z")
_JS_TRIM_RE = re.compile(rf"^[{_JS_SPACE}]+|[{_JS_SPACE}]+\Z")


def _json_body(handler: Handler) -> Any:
    """The body as ``c.req.json().catch(() => ({}))`` gives it."""
    try:
        return jsjson.parse(jsjson.decode_body(handler.read_body()))
    except (ValueError, BodyTooLarge):
        return {}


def create_project(handler: Handler) -> Reply:
    """``POST /api/projects {"name"}``: 201 ``{id, key, secret, name}``."""
    store = handler.collector.store
    since = now_ms() - PROJECT_CREATION_WINDOW_MS
    if store.count_projects_since(since) >= PROJECT_CREATION_MAX_PER_HOUR:
        return json_reply(429, {"error": "too many recent project creations \u2014 try later"})
    body = _json_body(handler)
    if body is None:
        return INTERNAL_ERROR  # the server reads null.name: TypeError
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        return json_reply(400, {"error": "name is required"})
    if utf16_len(name) > MAX_PROJECT_NAME_UNITS:
        return json_reply(400, {"error": "name too long"})
    trimmed = _JS_TRIM_RE.sub("", name)
    if not trimmed:
        return INTERNAL_ERROR  # the server throws "name is required" unhandled
    project = store.create_project(trimmed)
    answer = {key: project[key] for key in ("id", "key", "secret")}
    answer["name"] = trimmed
    return json_reply(201, answer)


def authenticate(handler: Handler) -> Tuple[Optional[Row], Optional[Reply]]:
    """``(project, None)`` for a valid Bearer secret, else ``(None, the 401)``."""
    header = handler.header("authorization")
    match = _SECRET_RE.match(header) if header else None
    if match is None:
        return None, json_reply(401, {"error": "missing or invalid Authorization"})
    project = handler.collector.store.project_by("secret", match.group(1))
    if project is None:
        return None, json_reply(401, {"error": "invalid secret"})
    return project, None


def list_errors(handler: Handler, project: Row, project_id: str) -> Reply:
    """``GET /api/projects/:id/errors[?status=]``: ``{"errors": [...]}``, newest first."""
    if project["id"] != project_id:
        return json_reply(403, {"error": "forbidden"})
    status = parse_qs(handler.query, keep_blank_values=True).get("status", [""])[0]
    try:
        rows = handler.collector.store.list_errors(project["id"], status or None)
    except PatchError as exc:
        return json_reply(400, {"error": str(exc)})
    return json_reply(200, {"errors": rows})


def _owned(handler: Handler, project: Row, error_id: str) -> Tuple[Optional[Row], Optional[Reply]]:
    row = handler.collector.store.get_error(error_id)
    if row is None:
        return None, json_reply(404, {"error": "not found"})
    if row["project_id"] != project["id"]:
        return None, json_reply(403, {"error": "forbidden"})
    return row, None


def get_error(handler: Handler, project: Row, error_id: str) -> Reply:
    """``GET /api/errors/:id``: the stored row."""
    row, refusal = _owned(handler, project, error_id)
    return refusal or json_reply(200, row)


def patch_error(handler: Handler, project: Row, error_id: str) -> Reply:
    """``PATCH /api/errors/:id {"status"?, "branch"?}``: the updated row."""
    _, refusal = _owned(handler, project, error_id)
    if refusal is not None:
        return refusal
    body = _json_body(handler)
    try:
        row = handler.collector.store.patch_error(error_id, body)
    except PatchError as exc:
        return json_reply(400, {"error": str(exc)})
    if row is None:
        return json_reply(404, {"error": "not found"})
    return json_reply(200, row)


def delete_error(handler: Handler, project: Row, error_id: str) -> Reply:
    """``DELETE /api/errors/:id``: ``{"deleted": true}``."""
    _, refusal = _owned(handler, project, error_id)
    if refusal is not None:
        return refusal
    handler.collector.store.delete_error(error_id)
    return json_reply(200, {"deleted": True})


ERROR_ROUTES: Dict[str, Any] = {"GET": get_error, "PATCH": patch_error, "DELETE": delete_error}
