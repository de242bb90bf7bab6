"""``ez-pixel show ID``: one error group with its code and stack, as a coding agent reads it."""

import argparse
import json
from typing import TYPE_CHECKING

from ez_pixel.collector.render import render_group

from .common import EXIT_OK
from .management import Management, add_project_arguments

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``show`` subcommand."""
    parser = subparsers.add_parser(
        "show",
        help="print one error group with code and stack",
        description="Print one error group (GET /api/errors/ID) with its code and stack.",
    )
    parser.add_argument("id", help="error id, or the start of one (first column of `errors`)")
    add_project_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the group as JSON")
    parser.set_defaults(run=run_show)


def run_show(args: argparse.Namespace) -> int:
    """Print one group the way a coding agent reads it."""
    api = Management.from_args(args)
    group = api.get_error(api.resolve_id(args.id))
    print(json.dumps(group, indent=2) if args.json else render_group(group))
    return EXIT_OK
