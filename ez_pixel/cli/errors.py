"""``ez-pixel errors``: list a project's error groups, most recently seen first."""

import argparse
import json
from typing import TYPE_CHECKING

from ez_pixel.collector.render import render_table
from ez_pixel.collector.store import STATUSES

from .common import EXIT_OK, positive_int
from .management import Management, add_project_arguments

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``errors`` subcommand."""
    parser = subparsers.add_parser(
        "errors",
        help="list error groups, most recent first",
        description="List a project's error groups through the management API "
        "(GET /api/projects/ID/errors), most recently seen first.",
    )
    add_project_arguments(parser)
    parser.add_argument("--status", choices=STATUSES, help="only groups with this status")
    parser.add_argument("--limit", type=positive_int, default=50, help="default 50")
    parser.add_argument("--json", action="store_true", help="print the groups as JSON")
    parser.set_defaults(run=run_errors)


def run_errors(args: argparse.Namespace) -> int:
    """Print the groups as a table (or JSON)."""
    groups = Management.from_args(args).list_errors(args.status)[: args.limit]
    print(json.dumps(groups, indent=2) if args.json else render_table(groups))
    return EXIT_OK
