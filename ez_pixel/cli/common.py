"""What every ``ez-pixel`` command shares: failures, exit codes, defaults, argument types.

Adding a command (e.g. ``ez_pixel/cli/demo.py``): write ``register(subparsers)``,
which calls ``subparsers.add_parser("demo", help=..., description=...)``, adds
its arguments and calls ``parser.set_defaults(run=run_demo)``, where
``run_demo(args) -> int`` returns the exit code and raises :class:`CliError`
for a one-line failure. Then list it in :mod:`ez_pixel.cli.main`.

Exit codes: 0 ok, 1 not found or collector unreachable, 2 usage.
"""

import argparse
from typing import TYPE_CHECKING

from ez_pixel.contract import PROJECT_KEY_RE

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_DB = "./ez-pixel.db"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure reported as one line on stderr with exit code ``code`` (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        """Keep the message and the exit code."""
        super().__init__(message)
        self.code = code


def project_key(text: str) -> str:
    """argparse type: a well-formed project key."""
    if not PROJECT_KEY_RE.match(text):
        raise argparse.ArgumentTypeError(
            f"not a project key (pk_test_... or pk_live_...): {text!r}"
        )
    return text


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def port(text: str) -> int:
    """argparse type: a TCP port (0 picks a free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value
