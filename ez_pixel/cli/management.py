"""The server's management API: the one client every command uses to ask about a project.

The same calls the ezcoder tools make, on ``ez-pixel serve`` and the hosted
server alike: ``POST /api/projects`` (open: answers ``{id, key, secret}``),
and with ``Authorization: Bearer <secret>`` ``GET /api/projects/<id>/errors``
(``{"errors": [...]}``), ``GET``/``PATCH``/``DELETE /api/errors/<id>``. The
API lives at the server's base URL: the ingest URL without its ``/ingest``.

``install``, ``send-test --cleanup`` and the install probe call the functions
with a server and a secret; ``errors``, ``show`` and ``resolve`` hold one
project in a :class:`Management`. Which project those three ask about:
``--project``/``--secret``, else ``EZ_PIXEL_PROJECT_ID`` / ``EZ_PIXEL_SECRET``,
else the default project ``ez-pixel serve`` keeps in its database (``--db``,
default ``./ez-pixel.db``: only the id and secret are read from it; the errors
always come over HTTP).
"""

import argparse
import contextlib
import json
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

from ez_pixel.collector.render import clean

from .common import DEFAULT_DB, DEFAULT_URL, EXIT_USAGE, CliError
from .localdb import read_default_project

TIMEOUT = 10.0
ENV_PROJECT_ID = "EZ_PIXEL_PROJECT_ID"
ENV_SECRET = "EZ_PIXEL_SECRET"
#: Fingerprints of install-verification events (ours and the ezcoder installer's):
#: hidden from lists, as the ezcoder tools hide them.
PROBE_PREFIX = "__pixel_install_probe__"
_FULL_ID = re.compile(r"^err_[0-9a-f]{32}\Z")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ManagementError(CliError):
    """A management call failed; ``status`` is the HTTP status, 0 when unreachable."""

    def __init__(self, message: str, status: int = 0) -> None:
        """Keep the message and the status (the exit code is always 1)."""
        super().__init__(message)
        self.status = status


def is_probe(fingerprint: Any) -> bool:
    """True for a fingerprint an install probe (ours or the ezcoder installer's) used."""
    return isinstance(fingerprint, str) and fingerprint.startswith(PROBE_PREFIX)


def server_of(ingest_url: str) -> str:
    """The server's base URL: the ingest URL without ``/ingest``, else its scheme and host."""
    parts = urllib.parse.urlsplit(ingest_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/ingest")] if path.endswith("/ingest") else ""
    return f"{parts.scheme}://{parts.netloc}{path}"


def normalize_url(url: str) -> str:
    """Return a server's base URL; a pasted ingest URL (``.../ingest``) is accepted too."""
    base = url.strip().rstrip("/")
    if base.endswith("/ingest"):
        base = base[: -len("/ingest")]
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise CliError(f"invalid --url {url!r}: expected http://HOST:PORT", EXIT_USAGE)
    return base


def call(
    server: str,
    method: str,
    path: str,
    secret: Optional[str] = None,
    body: Optional[Dict[str, Any]] = None,
    what: str = "",
) -> Any:
    """One JSON request; the decoded answer of a 2xx, else :class:`ManagementError`.

    ``what`` names the request in the error message (default ``METHOD path``).
    """
    what = what or f"{method} {path}"
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
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ManagementError(f"cannot reach {server} ({reason})") from None
    text = raw.decode("utf-8", "replace")
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if 200 <= status < 300 and answer is not None:
        return answer
    error = answer.get("error") if isinstance(answer, dict) else None
    detail = clean(error) if error else clean(text.strip()[:200])
    if 200 <= status < 300:
        raise ManagementError(f"{server} did not answer JSON to {what}", status)
    message = f"{server} answered {status} to {what}" + (f": {detail}" if detail else "")
    raise ManagementError(message, status)


def register_project(server: str, name: str) -> Dict[str, str]:
    """``POST /api/projects``: the new project's ``{"id", "key", "secret"}``."""
    answer = call(server, "POST", "/api/projects", body={"name": name[:100]})
    fields = ("id", "key", "secret")
    if not isinstance(answer, dict) or not all(isinstance(answer.get(f), str) for f in fields):
        raise ManagementError(f"{server} answered POST /api/projects without id, key and secret")
    return {field: answer[field] for field in fields}


def list_errors(
    server: str, project_id: str, secret: str, status: Optional[str] = None
) -> List[Dict[str, Any]]:
    """``GET /api/projects/<id>/errors``: the project's error groups (probes included)."""
    path = f"/api/projects/{urllib.parse.quote(project_id, safe='')}/errors"
    if status:
        path += "?" + urllib.parse.urlencode({"status": status})
    answer = call(server, "GET", path, secret=secret, what="the error list")
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        raise ManagementError(f"{server} answered GET {path} without an error list")
    return [row for row in errors if isinstance(row, dict)]


def delete_error(server: str, error_id: str, secret: str) -> None:
    """``DELETE /api/errors/<id>``."""
    call(server, "DELETE", f"/api/errors/{urllib.parse.quote(error_id, safe='')}", secret=secret)


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--url``, ``--project``, ``--secret`` and ``--db`` to a subcommand."""
    parser.add_argument("--url", default=DEFAULT_URL, help=f"server to ask (default {DEFAULT_URL})")
    parser.add_argument("--project", help=f"project id (default: ${ENV_PROJECT_ID}, else --db)")
    parser.add_argument("--secret", help=f"the project's sk_live_ secret (default: ${ENV_SECRET})")
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"take the default project of this `ez-pixel serve` database (default {DEFAULT_DB})",
    )


def _from_database(path: str) -> Dict[str, str]:
    """The default project ``serve`` keeps in ``path``; CliError saying what to do if none."""
    try:
        project = read_default_project(path)
    except FileNotFoundError:
        raise CliError(
            f"which project? pass --project and --secret (printed by `ez-pixel serve` on its "
            f"first start), set ${ENV_PROJECT_ID} and ${ENV_SECRET}, or run this where "
            f"`ez-pixel serve` keeps {path}",
            EXIT_USAGE,
        ) from None
    except (OSError, sqlite3.Error) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if project is None:
        raise CliError(f"{path} has no default project: start `ez-pixel serve --db {path}` once")
    return project


class Management:
    """One project's view of the management API (``errors``, ``show``, ``resolve``)."""

    def __init__(self, url: str, project_id: str, secret: str) -> None:
        """Talk to ``url`` as the project ``project_id`` holding ``secret``."""
        self.url = normalize_url(url)
        self.project_id = project_id
        self.secret = secret

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Management":
        """The project chosen by :func:`add_project_arguments`'s options."""
        project = args.project or os.environ.get(ENV_PROJECT_ID)
        secret = args.secret or os.environ.get(ENV_SECRET)
        if not project or not secret:
            found = _from_database(args.db)
            project, secret = project or found["id"], secret or found["secret"]
        return cls(args.url, project, secret)

    @contextlib.contextmanager
    def _hints(self) -> Iterator[None]:
        """Add a hint for the two usual mistakes to a failed call."""
        try:
            yield
        except ManagementError as exc:
            if exc.status == 0:
                raise ManagementError(f"{exc}; is `ez-pixel serve` running?") from None
            if exc.status == 401:
                raise ManagementError(f"{exc} (check --project and --secret)", 401) from None
            raise

    def _object(self, method: str, path: str, what: str, body: Any = None) -> Dict[str, Any]:
        """:func:`call` as this project, for an answer that is one JSON object."""
        with self._hints():
            answer = call(self.url, method, path, self.secret, body, what)
        if not isinstance(answer, dict):
            raise ManagementError(f"{self.url} answered {what} without a JSON object")
        return answer

    def list_errors(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """The project's groups, most recently seen first (install probes left out)."""
        with self._hints():
            rows = list_errors(self.url, self.project_id, self.secret, status)
        return [row for row in rows if "id" in row and not is_probe(row.get("fingerprint"))]

    def resolve_id(self, given: str) -> str:
        """The full id of a group from an id or a unique prefix of one (as tables show)."""
        if _FULL_ID.match(given):
            return given
        matches = [str(row["id"]) for row in self.list_errors() if str(row["id"]).startswith(given)]
        if len(matches) > 1:
            raise CliError(f"{given!r} matches {len(matches)} errors: give more of the id")
        if not matches:
            raise CliError(f"no error {given!r} in this project")
        return matches[0]

    def get_error(self, error_id: str) -> Dict[str, Any]:
        """One group."""
        path = f"/api/errors/{urllib.parse.quote(error_id, safe='')}"
        return self._object("GET", path, f"error {error_id}")

    def set_status(self, error_id: str, status: str) -> Dict[str, Any]:
        """Change a group's status; return the updated group."""
        path = f"/api/errors/{urllib.parse.quote(error_id, safe='')}"
        return self._object("PATCH", path, f"the status change of {error_id}", {"status": status})
