"""The server's management API, as far as ``install`` and ``send-test`` use it.

The same calls the ezcoder tools make, on the hosted server and on
``ez-pixel serve`` alike: ``POST /api/projects`` (open: answers ``{id, key,
secret}``), and with ``Authorization: Bearer <secret>``
``GET /api/projects/<id>/errors`` (``{"errors": [...]}``) and
``DELETE /api/errors/<id>``. The API lives at the server's base URL: the
ingest URL without its ``/ingest``.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

TIMEOUT = 10.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ManagementError(Exception):
    """A management call failed; ``status`` is the HTTP status, 0 when unreachable."""

    def __init__(self, message: str, status: int = 0) -> None:
        """Keep the message and the status."""
        super().__init__(message)
        self.status = status


def server_of(ingest_url: str) -> str:
    """The server's base URL: the ingest URL without ``/ingest``, else its scheme and host."""
    parts = urllib.parse.urlsplit(ingest_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/ingest")] if path.endswith("/ingest") else ""
    return f"{parts.scheme}://{parts.netloc}{path}"


def _call(
    server: str,
    method: str,
    path: str,
    secret: Optional[str] = None,
    body: Optional[Dict[str, Any]] = None,
    timeout: float = TIMEOUT,
) -> Any:
    """One JSON request; the decoded answer, or :class:`ManagementError`."""
    headers = {"accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["content-type"] = "application/json"
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    request = urllib.request.Request(server + path, data=data, headers=headers, method=method)
    handlers = []
    if urllib.parse.urlsplit(server).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))  # a local server: no proxy
    opener = urllib.request.build_opener(*handlers)
    what = f"{method} {path}"
    try:
        with opener.open(request, timeout=timeout) as response:
            raw = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:200]
        message = f"{server} answered {exc.code} to {what}: {detail}"
        raise ManagementError(message, exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ManagementError(f"cannot reach {server} ({reason})") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise ManagementError(f"{server} did not answer JSON to {what}", 200) from None


def register_project(server: str, name: str) -> Dict[str, str]:
    """``POST /api/projects``: the new project's ``{"id", "key", "secret"}``."""
    answer = _call(server, "POST", "/api/projects", body={"name": name[:100]})
    fields = ("id", "key", "secret")
    if not isinstance(answer, dict) or not all(isinstance(answer.get(f), str) for f in fields):
        raise ManagementError(f"{server} answered POST /api/projects without id, key and secret")
    return {field: answer[field] for field in fields}


def list_errors(server: str, project_id: str, secret: str) -> List[Dict[str, Any]]:
    """``GET /api/projects/<id>/errors``: the project's error groups."""
    path = f"/api/projects/{urllib.parse.quote(project_id, safe='')}/errors"
    answer = _call(server, "GET", path, secret=secret)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        raise ManagementError(f"{server} answered GET {path} without an error list")
    return [row for row in errors if isinstance(row, dict)]


def delete_error(server: str, error_id: str, secret: str) -> None:
    """``DELETE /api/errors/<id>``."""
    _call(server, "DELETE", f"/api/errors/{urllib.parse.quote(error_id, safe='')}", secret=secret)
