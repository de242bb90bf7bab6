"""The ``ez-pixel`` parser: every command's module registers itself here."""

import argparse
import io
import sys
from typing import Any, Callable, List, Optional, Sequence

from ez_pixel import __version__

from . import demo, errors, resolve, send_test, serve, show
from .common import EXIT_OK, EXIT_USAGE, CliError
from .install import command as install

#: Every command's ``register`` function, in ``--help`` order.
REGISTRARS: List[Callable[[Any], None]] = [
    demo.register,
    serve.register,
    errors.register,
    show.register,
    resolve.register,
    send_test.register,
    install.register,
]


def build_parser() -> argparse.ArgumentParser:
    """Build the ``ez-pixel`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="ez-pixel", description="ez-pixel: local error collector and tools"
    )
    parser.add_argument("--version", action="version", version=f"ez-pixel {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in REGISTRARS:
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
    parser = build_parser()
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
