"""``ez-pixel errors``: list error groups, most recently seen first."""

import argparse
import json
from typing import TYPE_CHECKING

from ez_pixel.collector.render import render_table

from .common import EXIT_OK, positive_int
from .source import add_source_arguments, open_source

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``errors`` subcommand."""
    parser = subparsers.add_parser("errors", help="list error groups, most recent first")
    add_source_arguments(parser)
    parser.add_argument("--project-key", help="only this project's errors")
    parser.add_argument("--limit", type=positive_int, default=50, help="default 50")
    parser.add_argument("--json", action="store_true", help="print the groups as JSON")
    parser.set_defaults(run=run_errors)


def run_errors(args: argparse.Namespace) -> int:
    """Print the groups as a table (or JSON)."""
    source = open_source(args)
    try:
        groups = source.list_groups(args.project_key, limit=args.limit)
    finally:
        source.close()
    print(json.dumps(groups, indent=2) if args.json else render_table(groups))
    return EXIT_OK
