"""``ez-pixel serve``: run a local collector and print each event as it arrives."""

import argparse
import signal
import sqlite3
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Callable, Optional

from ez_pixel.collector import Collector

from .common import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, EXIT_OK, CliError, port, project_key

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="run a local collector and print events as they arrive"
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}, 0 = any"
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument(
        "--keys", nargs="+", type=project_key, metavar="KEY", help="accept only these keys"
    )
    parser.set_defaults(run=run_serve)


def _banner(collector: Collector, db: str) -> str:
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
    stop = threading.Event()
    _on_stop_signals(stop.set)
    print(_banner(collector, args.db), flush=True)
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
