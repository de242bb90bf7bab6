"""The ``ez-pixel`` command line: ``demo``, ``serve``, ``errors``, ``show``, ``send-test``.

Adding a subcommand (e.g. ``demo`` in ``ez_pixel/cli_demo.py``):

1. In that module write ``register(subparsers)``: it calls
   ``subparsers.add_parser("demo", help=...)``, adds its arguments (use
   :func:`add_source_arguments` for ``--url``/``--db``) and calls
   ``parser.set_defaults(run=run_demo)`` where ``run_demo(args) -> int``
   returns the exit code and raises :class:`CliError` for a one-line failure.
2. Add it to :func:`_registrars` (the import sits inside that function, so the
   new module can import helpers such as :func:`render_table` from here).

Exit codes: 0 ok, 1 not found or collector unreachable, 2 usage.
"""

import argparse
import io
import json
import os
import signal
import sqlite3
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

from ez_pixel.collector import Collector
from ez_pixel.contract import PROJECT_KEY_RE
from ez_pixel.render import render_group, render_table
from ez_pixel.store import ErrorStore

if TYPE_CHECKING:
    from typing import Protocol

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

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


__all__ = [
    "CliError",
    "HttpSource",
    "add_source_arguments",
    "main",
    "open_source",
    "render_group",
    "render_table",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_DB = "./ez-pixel.db"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
HTTP_TIMEOUT = 5.0

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Registrar = Callable[["Subparsers"], None]


class CliError(Exception):
    """A failure reported as one line on stderr with exit code ``code`` (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        """Keep the message and the exit code."""
        super().__init__(message)
        self.code = code


# -- where groups come from ------------------------------------------------------------


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


# -- subcommands ---------------------------------------------------------------------


def _project_key(text: str) -> str:
    """argparse type: a well-formed project key."""
    if not PROJECT_KEY_RE.match(text):
        raise argparse.ArgumentTypeError(
            f"not a project key (pk_test_... or pk_live_...): {text!r}"
        )
    return text


def _positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _port(text: str) -> int:
    """argparse type: a TCP port (0 picks a free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value


def _add_serve(subparsers: "Subparsers") -> None:
    """Register ``serve``."""
    parser = subparsers.add_parser(
        "serve", help="run a local collector and print events as they arrive"
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}, 0 = any"
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument(
        "--keys", nargs="+", type=_project_key, metavar="KEY", help="accept only these keys"
    )
    parser.set_defaults(run=_run_serve)


def _serve_banner(collector: Collector, db: str) -> str:
    """Return the lines ``serve`` prints once it listens."""
    keys = ", ".join(sorted(collector.keys)) if collector.keys is not None else "any project key"
    return "\n".join(
        [
            f"ez-pixel collector listening on {collector.url}",
            f"  ingest URL: {collector.ingest_url}",
            f"  database:   {db}",
            f"  accepting:  {keys}",
            f'Point the SDK at ingest_url="{collector.ingest_url}". Ctrl-C to stop.',
        ]
    )


def _on_stop_signals(callback: Callable[[], None]) -> None:
    """Make Ctrl-C and SIGTERM stop ``serve`` cleanly (main thread only).

    A handler rather than KeyboardInterrupt: the exception could land anywhere,
    even inside the shutdown itself.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: Optional[FrameType]) -> None:
        callback()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM, echoing each event on stdout."""
    try:
        collector = Collector(args.host, args.port, db=args.db, keys=args.keys, echo=sys.stdout)
    except sqlite3.Error as exc:
        raise CliError(f"cannot open database {args.db}: {exc}") from None
    try:
        collector.start()
    except OSError as exc:
        collector.store.close()
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    _on_stop_signals(stop.set)
    print(_serve_banner(collector, args.db), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        collector.stop()
        collector.store.close()
    print("ez-pixel collector stopped.", flush=True)
    return EXIT_OK


def _add_errors(subparsers: "Subparsers") -> None:
    """Register ``errors``."""
    parser = subparsers.add_parser("errors", help="list error groups, most recent first")
    add_source_arguments(parser)
    parser.add_argument("--project-key", help="only this project's errors")
    parser.add_argument("--limit", type=_positive_int, default=50, help="default 50")
    parser.add_argument("--json", action="store_true", help="print the groups as JSON")
    parser.set_defaults(run=_run_errors)


def _run_errors(args: argparse.Namespace) -> int:
    """Print the groups as a table (or JSON)."""
    source = open_source(args)
    try:
        groups = source.list_groups(args.project_key, limit=args.limit)
    finally:
        source.close()
    print(json.dumps(groups, indent=2) if args.json else render_table(groups))
    return EXIT_OK


def _add_show(subparsers: "Subparsers") -> None:
    """Register ``show``."""
    parser = subparsers.add_parser("show", help="print one error group with code and stack")
    parser.add_argument("id", type=int, help="error group id (first column of `errors`)")
    add_source_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the group as JSON")
    parser.set_defaults(run=_run_show)


def _run_show(args: argparse.Namespace) -> int:
    """Print one group the way a coding agent reads it."""
    source = open_source(args)
    try:
        group = source.get_group(args.id)
    finally:
        source.close()
    if group is None:
        raise CliError(f"no error group with id {args.id}")
    print(json.dumps(group, indent=2) if args.json else render_group(group))
    return EXIT_OK


# -- wiring --------------------------------------------------------------------------


def _registrars() -> List[Registrar]:
    """Every subcommand's ``register`` function, in ``--help`` order."""
    from ez_pixel import cli_demo, cli_install, cli_sendtest

    return [
        cli_demo.register,
        _add_serve,
        _add_errors,
        _add_show,
        cli_sendtest.register,
        cli_install.register,
    ]


def _build_parser() -> argparse.ArgumentParser:
    """Build the ``ez-pixel`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="ez-pixel", description="ez-pixel: local error collector and tools"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in _registrars():
        register(subparsers)
    return parser


def _exit_code(code: Any) -> int:
    """Map a ``SystemExit`` code (argparse's) to an int."""
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_USAGE


def _escape_unencodable_output() -> None:
    """Print characters the terminal cannot encode as escapes instead of crashing."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``ez-pixel`` command line and return its exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return _exit_code(exc.code)
    run: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _escape_unencodable_output()
    try:
        return run(args)
    except CliError as exc:
        print(f"ez-pixel: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run the importable copy, so subcommand modules share its CliError.
    from ez_pixel.cli import main as _main

    sys.exit(_main())
