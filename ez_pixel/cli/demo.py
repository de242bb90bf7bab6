"""``ez-pixel demo``: the whole loop on one machine, no account needed.

Starts a collector on a free local port, runs the example app (copied to a
temporary folder, as if it were your project) with ez-pixel pointed at it,
streams each event as it arrives, then prints the error groups.
"""

import argparse
import os
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

DEMO_KEY = "pk_test_demo"
#: Distinct bugs the example app has; the demo checks they all arrived.
EXPECTED_GROUPS = 6


def register(subparsers: "Subparsers") -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run an example app against a local collector and show its errors",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    with tempfile.TemporaryDirectory(prefix="ez-pixel-demo-") as project:
        app = Path(project) / "demo_app.py"
        shutil.copy(demo_app(), app)
        with Collector(port=0, db=":memory:", echo=sys.stdout) as collector:
            print(f"ez-pixel demo: collector listening on {collector.ingest_url}")
            print(f"ez-pixel demo: running {app.name}; each event prints as it arrives:\n")
            sys.stdout.flush()
            env = dict(os.environ)
            env.update({ENV_PROJECT_KEY: DEMO_KEY, ENV_INGEST_URL: collector.ingest_url})
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
            groups = collector.store.list_groups(project_key=DEMO_KEY)
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
