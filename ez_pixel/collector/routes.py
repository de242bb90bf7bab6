"""Which answer a request gets, routed as the hosted server's Hono app routes it.

Paths match exactly (no trailing slash), a method without a route gets the
plain-text ``404 Not Found`` (never 405), ``HEAD`` runs the ``GET`` route,
``/ingest`` answers CORS preflights and carries ``Access-Control-Allow-Origin: *``
on every answer, and the management paths check the Bearer secret for any
method before looking for a route.
"""

import re
from urllib.parse import unquote

from . import api
from .http import NOT_FOUND, Handler, Reply, json_reply
from .ingest import ingest

_CORS_ORIGIN = ("access-control-allow-origin", "*")
PREFLIGHT = Reply(
    204,
    content_type="text/plain; charset=UTF-8",
    headers=[
        _CORS_ORIGIN,
        ("access-control-max-age", "86400"),
        ("access-control-allow-methods", "POST,OPTIONS"),
        ("access-control-allow-headers", "content-type,x-pixel-key"),
        ("vary", "Access-Control-Request-Headers"),
    ],
)
_PROJECT_ERRORS = re.compile(r"^/api/projects/([^/]+)/errors$")
_ONE_ERROR = re.compile(r"^/api/errors/([^/]+)$")


def _with_cors(reply: Reply) -> Reply:
    return Reply(reply.status, reply.body, reply.content_type, [*reply.headers, _CORS_ORIGIN])


def _param(text: str) -> str:
    return unquote(text) if "%" in text else text


def route(handler: Handler) -> Reply:
    """The answer to the request ``handler`` has read."""
    path = handler.route_path
    method = "GET" if handler.command == "HEAD" else handler.command
    if path == "/ingest":
        if method == "OPTIONS":
            return PREFLIGHT
        return _with_cors(ingest(handler) if method == "POST" else NOT_FOUND)
    if path == "/api/projects":
        return api.create_project(handler) if method == "POST" else NOT_FOUND
    if path == "/health":
        return json_reply(200, {"ok": True}) if method == "GET" else NOT_FOUND
    listing = _PROJECT_ERRORS.match(path)
    one = _ONE_ERROR.match(path)
    if listing is None and one is None:
        return NOT_FOUND
    project, refusal = api.authenticate(handler)
    if project is None:
        return refusal or NOT_FOUND
    if listing is not None:
        if method != "GET":
            return NOT_FOUND
        return api.list_errors(handler, project, _param(listing.group(1)))
    assert one is not None
    answer = api.ERROR_ROUTES.get(method)
    return NOT_FOUND if answer is None else answer(handler, project, _param(one.group(1)))
