"""``ez-pixel resolve ID``: mark an error group fixed (``merged``) or set another status.

A ``merged`` group whose fingerprint comes back is reopened by the server and
its recurrence count goes up, as for the hosted server and the ezcoder fix queue.
"""

import argparse
from typing import TYPE_CHECKING

from ez_pixel.collector.render import clean
from ez_pixel.collector.store import STATUSES

from .common import EXIT_OK
from .management import Management, add_project_arguments

if TYPE_CHECKING:
    from .common import Subparsers


def register(subparsers: "Subparsers") -> None:
    """Add the ``resolve`` subcommand."""
    parser = subparsers.add_parser(
        "resolve",
        help="mark an error group fixed (status merged) or set its status",
        description=__doc__.split("\n\n")[0].replace("``", "") + " Uses PATCH /api/errors/ID.",
    )
    parser.add_argument("id", help="error id, or the start of one (first column of `errors`)")
    parser.add_argument("--status", choices=STATUSES, default="merged", help="default merged")
    add_project_arguments(parser)
    parser.set_defaults(run=run_resolve)


def run_resolve(args: argparse.Namespace) -> int:
    """Change the status and say what it is now."""
    api = Management.from_args(args)
    group = api.set_status(api.resolve_id(args.id), args.status)
    print(f"{clean(group.get('id'))}: {clean(group.get('status'))}")
    return EXIT_OK
