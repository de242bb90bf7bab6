"""Where ``errors`` and ``show`` read error groups from: a running collector or a db file."""

import argparse
import json
import os
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ez_pixel.collector.store import ErrorStore

from .common import DEFAULT_URL, EXIT_USAGE, CliError

if TYPE_CHECKING:
    from typing import Protocol

    class GroupSource(Protocol):
        """Where ``errors``/``show`` read groups from: a running collector or a db file."""

        def list_groups(
            self, project_key: Optional[str] = None, limit: int = 100
        ) -> List[Dict[str, Any]]:
            """Groups, most recently seen first."""

        def get_group(self, group_id: int) -> Optional[Dict[str, Any]]:
            """One group, or None."""

        def close(self) -> None:
            """Release the source."""


HTTP_TIMEOUT = 5.0


def normalize_url(url: str) -> str:
    """Return a collector's base URL; a pasted ingest URL (``.../ingest``) is accepted too."""
    base = url.strip().rstrip("/")
    if base.endswith("/ingest"):
        base = base[: -len("/ingest")]
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise CliError(f"invalid --url {url!r}: expected http://HOST:PORT", EXIT_USAGE)
    return base


class HttpSource:
    """Reads groups from a running collector's ``/api/errors`` endpoints."""

    def __init__(self, url: str, timeout: float = HTTP_TIMEOUT) -> None:
        """Use the collector at base ``url``."""
        self.url = normalize_url(url)
        self.timeout = timeout
        # The collector is local: environment proxies would only get in the way.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _get(self, path: str) -> Any:
        """GET ``path`` and return its JSON, or raise :class:`CliError`."""
        request = urllib.request.Request(self.url + path, headers={"accept": "application/json"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(
                f"cannot reach the collector at {self.url} ({reason}); is `ez-pixel serve` running?"
            ) from None
        except ValueError:
            raise CliError(
                f"{self.url} did not answer JSON; is it an ez-pixel collector?"
            ) from None

    def list_groups(
        self, project_key: Optional[str] = None, limit: int = 100
    ) -> List[Dict[str, Any]]:
        """Groups, most recently seen first."""
        query: Dict[str, Any] = {"limit": limit}
        if project_key is not None:
            query["project_key"] = project_key
        try:
            groups = self._get("/api/errors?" + urllib.parse.urlencode(query))
        except urllib.error.HTTPError as exc:
            raise CliError(f"the collector answered {exc.code} to /api/errors") from None
        if not isinstance(groups, list):
            raise CliError(f"{self.url} did not answer a list of errors")
        return groups

    def get_group(self, group_id: int) -> Optional[Dict[str, Any]]:
        """One group, or None when the collector answers 404."""
        try:
            group = self._get(f"/api/errors/{group_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise CliError(f"the collector answered {exc.code} to /api/errors/{group_id}") from None
        if not isinstance(group, dict):
            raise CliError(f"{self.url} did not answer an error group")
        return group

    def close(self) -> None:
        """Nothing to release: each request used its own connection."""


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--url`` / ``--db`` (mutually exclusive) to a subcommand."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--url", default=DEFAULT_URL, help=f"running collector to ask (default {DEFAULT_URL})"
    )
    source.add_argument("--db", help="read this database file directly instead")


def open_source(args: argparse.Namespace) -> "GroupSource":
    """Return the group source chosen by :func:`add_source_arguments`'s options."""
    if args.db is None:
        return HttpSource(args.url)
    if not os.path.isfile(args.db):
        raise CliError(f"no database at {args.db}")
    try:
        return ErrorStore(args.db)
    except sqlite3.Error as exc:
        raise CliError(f"cannot read {args.db}: {exc}") from None
