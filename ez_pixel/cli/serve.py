"""``ez-pixel serve``: run a local collector and print each event as it arrives."""

import argparse
import ipaddress
import signal
import sqlite3
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from ez_pixel.collector import Collector

from .common import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, EXIT_OK, CliError, port, project_key

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run a local collector and print events as they arrive",
        description="Run a local twin of the hosted pixel server: /ingest, /api/projects, "
        "the management API. On its first start it creates a default project in its "
        "database and prints the project's key and secret.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}, 0 = any"
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument(
        "--keys",
        nargs="+",
        type=project_key,
        metavar="KEY",
        help="also accept these keys (each gets a project), e.g. for tests",
    )
    parser.set_defaults(run=run_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listening(collector: Collector, host: str) -> str:
    """Where the collector really listens: a wildcard host is every interface."""
    if host in ("", "0.0.0.0", "::"):
        shown = f"[{host}]" if ":" in host else host or "0.0.0.0"
        return f"http://{shown}:{collector.port} (every network interface)"
    return collector.url


def _banner(
    collector: Collector, db: str, host: str, project: Dict[str, Any], created: bool
) -> str:
    """Return the lines ``serve`` prints once it listens."""
    lines = [
        f"ez-pixel collector listening on {_listening(collector, host)}",
        f"  ingest URL: {collector.ingest_url}",
        f"  database:   {db}",
        f"  project:    {project['id']} (default)",
        f"  key:        {project['key']}",
    ]
    if created:
        lines.append(f"  secret:     {project['secret']}")
        lines.append(
            "  (a new project: its secret is shown this once; `ez-pixel errors` run next to "
            f"{db} finds it there)"
        )
    if collector.keys:
        lines.append(f"  also accepting: {', '.join(sorted(collector.keys))}")
    lines.append(
        f'Point the SDK at it: init_pixel("{project["key"]}", "{collector.ingest_url}").'
        " Ctrl-C to stop."
    )
    return "\n".join(lines)


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


def run_serve(args: argparse.Namespace) -> int:
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
    project, created = collector.store.default_project()
    stop = threading.Event()
    _on_stop_signals(stop.set)
    print(_banner(collector, args.db, args.host, project, created), flush=True)
    if not _is_loopback(args.host):
        print(
            f"ez-pixel: warning: --host {args.host} makes the collector reachable from the "
            "network: anyone who can reach this machine can send it events",
            file=sys.stderr,
            flush=True,
        )
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
