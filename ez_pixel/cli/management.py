"""The management API client behind ``errors``, ``show`` and ``resolve``.

The same calls the ezcoder tools make, against ``ez-pixel serve`` or the
hosted server: ``GET /api/projects/:id/errors``, ``GET``/``PATCH
/api/errors/:id``, each with ``Authorization: Bearer <secret>``.

Which project: ``--project``/``--secret``, else ``EZ_PIXEL_PROJECT_ID`` /
``EZ_PIXEL_SECRET``, else the default project that ``ez-pixel serve`` keeps in
its database (``--db``, default ``./ez-pixel.db``: only the id and secret are
read from it; the errors always come over HTTP).
"""

import argparse
import json
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

from ez_pixel.collector.render import clean

from .common import DEFAULT_DB, DEFAULT_URL, EXIT_USAGE, CliError

HTTP_TIMEOUT = 5.0
ENV_PROJECT_ID = "EZ_PIXEL_PROJECT_ID"
ENV_SECRET = "EZ_PIXEL_SECRET"
#: Fingerprints of install-verification events: hidden from lists, as ezcoder hides them.
PROBE_PREFIX = "__pixel_install_probe__"
_FULL_ID = re.compile(r"^err_[0-9a-f]{32}\Z")


def normalize_url(url: str) -> str:
    """Return a server's base URL; a pasted ingest URL (``.../ingest``) is accepted too."""
    base = url.strip().rstrip("/")
    if base.endswith("/ingest"):
        base = base[: -len("/ingest")]
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise CliError(f"invalid --url {url!r}: expected http://HOST:PORT", EXIT_USAGE)
    return base


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


def _from_database(path: str) -> Tuple[str, str]:
    """The id and secret of the default project ``serve`` keeps in ``path``."""
    if not os.path.isfile(path):
        raise CliError(
            f"which project? pass --project and --secret (printed by `ez-pixel serve` on its "
            f"first start), set ${ENV_PROJECT_ID} and ${ENV_SECRET}, or run this where "
            f"`ez-pixel serve` keeps {path}",
            EXIT_USAGE,
        )
    try:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT p.id, p.secret FROM projects p JOIN collector_settings s"
                " ON s.value = p.id WHERE s.name = 'default_project'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if row is None:
        raise CliError(f"{path} has no default project: start `ez-pixel serve --db {path}` once")
    return str(row[0]), str(row[1])


class Management:
    """One project's view of the management API."""

    def __init__(self, url: str, project_id: str, secret: str) -> None:
        """Talk to ``url`` as the project ``project_id`` holding ``secret``."""
        self.url = normalize_url(url)
        self.project_id = project_id
        self.secret = secret
        # The collector is usually local: environment proxies would only get in the way.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Management":
        """The project chosen by :func:`add_project_arguments`'s options."""
        project = args.project or os.environ.get(ENV_PROJECT_ID)
        secret = args.secret or os.environ.get(ENV_SECRET)
        if not project or not secret:
            found_project, found_secret = _from_database(args.db)
            project, secret = project or found_project, secret or found_secret
        return cls(args.url, project, secret)

    def _call(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        """``(status, parsed JSON or None)``; CliError when the server cannot be reached."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"authorization": f"Bearer {self.secret}", "accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with self._opener.open(request, timeout=HTTP_TIMEOUT) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(
                f"cannot reach {self.url} ({reason}); is `ez-pixel serve` running?"
            ) from None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError:
            return status, None

    def _fail(self, status: int, answer: Any, what: str) -> CliError:
        error = answer.get("error") if isinstance(answer, dict) else None
        text = f"{self.url} answered {status} to {what}" + (f": {clean(error)}" if error else "")
        if status == 401:
            text += " (check --project and --secret)"
        return CliError(text)

    def list_errors(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """The project's groups, most recently seen first (install probes left out)."""
        path = f"/api/projects/{urllib.parse.quote(self.project_id, safe='')}/errors"
        if status:
            path += "?" + urllib.parse.urlencode({"status": status})
        code, answer = self._call("GET", path)
        rows = answer.get("errors") if isinstance(answer, dict) else None
        if code != 200 or not isinstance(rows, list):
            raise self._fail(code, answer, "the error list")
        return [
            row
            for row in rows
            if isinstance(row, dict)
            and "id" in row
            and not str(row.get("fingerprint", "")).startswith(PROBE_PREFIX)
        ]

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
        code, answer = self._call("GET", f"/api/errors/{urllib.parse.quote(error_id, safe='')}")
        if code != 200 or not isinstance(answer, dict):
            raise self._fail(code, answer, f"error {error_id}")
        return answer

    def set_status(self, error_id: str, status: str) -> Dict[str, Any]:
        """Change a group's status; return the updated group."""
        path = f"/api/errors/{urllib.parse.quote(error_id, safe='')}"
        code, answer = self._call("PATCH", path, {"status": status})
        if code != 200 or not isinstance(answer, dict):
            raise self._fail(code, answer, f"the status change of {error_id}")
        return answer
