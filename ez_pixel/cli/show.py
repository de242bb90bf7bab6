"""``ez-pixel show ID``: one error group with its code and stack, as a coding agent reads it."""

import argparse
import json
from typing import TYPE_CHECKING

from ez_pixel.collector.render import render_group

from .common import EXIT_OK, CliError
from .source import add_source_arguments, open_source

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``show`` subcommand."""
    parser = subparsers.add_parser("show", help="print one error group with code and stack")
    parser.add_argument("id", type=int, help="error group id (first column of `errors`)")
    add_source_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the group as JSON")
    parser.set_defaults(run=run_show)


def run_show(args: argparse.Namespace) -> int:
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
