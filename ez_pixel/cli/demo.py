"""``ez-pixel demo``: the whole loop on one machine, no account needed.

Starts a collector on a free local port, runs the example app (copied to a
temporary folder, as if it were your project) with ez-pixel pointed at it,
streams each event as it arrives, then prints the error groups. ``--keep``
keeps the folder and the collector's database, to try ``errors`` and ``show``
on them afterwards.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ez_pixel.collector import Collector
from ez_pixel.collector.render import render_group, render_table
from ez_pixel.options import ENV_INGEST_URL, ENV_PROJECT_KEY

from .common import CliError

if TYPE_CHECKING:
    from .common import Subparsers

DB_NAME = "ez-pixel.db"
DESCRIPTION = (
    "The whole loop on one machine, no account needed: start a collector on a free "
    "local port, run an example app (copied to a temporary folder, as if it were "
    "your project) with ez-pixel pointed at it, print each event as it arrives, "
    "then the error groups and one group as a coding agent reads it. The folder is "
    "deleted at the end unless --keep is given."
)
#: Distinct bugs the example app has; the demo checks they all arrived.
EXPECTED_GROUPS = 6


def register(subparsers: "Subparsers") -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run an example app against a local collector and show its errors",
        description=DESCRIPTION,
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the demo folder and its database, to try `ez-pixel errors` and "
        "`ez-pixel show` on them afterwards (the command to run is printed)",
    )
    parser.set_defaults(run=run_demo)


def demo_app() -> Path:
    """The example app: inside the installed package, or in the source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (
        package / "_examples" / "demo_app.py",
        package.parent / "examples" / "demo_app.py",
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("demo_app.py is missing from this installation")


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every expected error group arrived."""
    if args.keep:
        folder = tempfile.mkdtemp(prefix="ez-pixel-demo-")
        db = str(Path(folder) / DB_NAME)
        try:
            return _demo(folder, db)
        finally:
            print(f"\nKept {folder} (the app and the collector's database). Try:")
            print(f"  ez-pixel serve --db {shlex.quote(db)}   (in another terminal)")
            print(f"  ez-pixel errors --db {shlex.quote(db)}")
            print(f"  ez-pixel show ID --db {shlex.quote(db)}   (ID: the first column)")
            print(f"  rm -r {shlex.quote(folder)}   (when done)")
    with tempfile.TemporaryDirectory(prefix="ez-pixel-demo-") as folder:
        return _demo(folder, ":memory:")


def _demo(project: str, db: str) -> int:
    """Run the app in ``project`` against a collector storing in ``db``."""
    app = Path(project) / "demo_app.py"
    shutil.copy(demo_app(), app)
    with Collector(port=0, db=db, echo=sys.stdout) as collector:
        default, _ = collector.store.default_project()  # the one `errors --db` finds later
        print(f"ez-pixel demo: collector listening on {collector.ingest_url}")
        print(f"ez-pixel demo: running {app.name}; each event prints as it arrives:\n")
        sys.stdout.flush()
        env = dict(os.environ)
        env.update({ENV_PROJECT_KEY: default["key"], ENV_INGEST_URL: collector.ingest_url})
        env.pop("PIXEL_DEBUG", None)
        completed = subprocess.run(
            [sys.executable, str(app)],
            cwd=project,
            env=env,
            timeout=120,
            check=False,
            capture_output=True,
            text=True,
        )
        groups = collector.store.list_errors(default["id"])
    print(f"\nez-pixel demo: the app exited with code {completed.returncode}. What it printed:\n")
    for line in (completed.stdout + completed.stderr).splitlines():
        print(f"  | {line}")
    print("\nez-pixel demo: the error groups (as `ez-pixel errors` lists them):\n")
    print(render_table(groups))
    if len(groups) < EXPECTED_GROUPS:
        raise CliError(f"expected {EXPECTED_GROUPS} error groups, got {len(groups)}")
    keyerror = next((g for g in groups if g.get("type") == "KeyError"), groups[0])
    print("\nWhat a coding agent reads for one group (ez-pixel show):\n")
    print(render_group(keyerror))
    print(
        "\nNext: `ez-pixel serve` keeps a collector running; point "
        f"{ENV_INGEST_URL} at it and call ez_pixel.init_pixel() in your app."
    )
    return 0
