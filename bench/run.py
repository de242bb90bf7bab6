"""Benchmark ez-pixel against ez-pixel 0.1.0 and sentry-sdk on a loopback sink.

Usage::

    python bench/run.py                       # everything (about 4-5 minutes)
    python bench/run.py --quick               # shorter runs, fewer repeats
    python bench/run.py --only caller,import  # some measures; others kept from results.json

Creates the contenders' virtualenvs under ``bench/.venvs/`` on first use (the
only network access: the package registry, for pip), then runs every measure
in fresh interpreters against a sink on 127.0.0.1, prints a markdown table
with the issues' goals marked PASS/FAIL and writes ``bench/results.json`` and
the same tables as ``bench/results.md`` (what bench/README.md quotes).
Measures: caller, captured, memory, faults, throughput, exit, import, init, idle, profile.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import envs
import measures
import report
import tables

RESULTS = envs.BENCH / "results.json"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine(base_python: str) -> Dict[str, Any]:
    """What the figures were measured on."""
    import subprocess

    version = subprocess.run(
        [base_python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(envs.REPO), *arguments], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_sdk_files": git("status", "--porcelain", "--", "ez_pixel").splitlines(),
        "python": version,
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "versions": {name: envs.version(name) for name in envs.REQUIREMENTS},
    }


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated measures to run, of: {', '.join(measures.MEASURES)}",
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    parser.add_argument("--reinstall", action="store_true", help="recreate the virtualenvs")
    parser.add_argument("--python", help="interpreter for the virtualenvs (default python3.11)")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the results JSON")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(measures.MEASURES))
    if unknown:
        parser.error(f"unknown measure(s): {', '.join(unknown)}")
    args.measures = chosen or list(measures.MEASURES)
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Set up the virtualenvs, run the chosen measures, print and save the results."""
    args = parse_args(argv)
    config = measures.QUICK if args.quick else measures.Config()
    base_python = envs.find_python(args.python)
    print(f"virtualenvs from {base_python}", flush=True)
    for name in envs.REQUIREMENTS:
        envs.ensure(name, base_python, reinstall=args.reinstall)
    measures.compile_repo()

    output = Path(args.output)
    results: Dict[str, Any] = {}
    if output.exists() and set(args.measures) != set(measures.MEASURES):
        results = json.loads(output.read_text())  # keep the measures not run this time
    meta = results.setdefault("meta", {})
    meta.update(machine(base_python))
    meta.setdefault("measured", {})

    def say(line: str) -> None:
        print(f"  {line}", flush=True)

    started = time.monotonic()
    for name in args.measures:
        print(f"{name}:", flush=True)
        began = time.monotonic()
        load = os.getloadavg()[0]
        results[name] = measures.MEASURES[name](config, say)
        meta["measured"][name] = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "load_before_after": [round(load, 2), round(os.getloadavg()[0], 2)],
            "quick": args.quick,
            "seconds": round(time.monotonic() - began, 1),
        }
    goals = report.evaluate(results)
    results["goals"] = [goal.as_dict() for goal in goals]
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")

    print()
    print(
        f"ez-pixel {meta['versions']['ours']} vs 0.1.0 and sentry-sdk "
        f"{meta['versions']['sentry']}; Python {meta['python']}, {meta['cores']} cores "
        f"({meta['cpu']}); {time.strftime('%Y-%m-%d')}"
        f"{' (quick)' if args.quick else ''}"
    )
    print()
    text = tables.markdown(results, goals)
    print(text)
    output.with_suffix(".md").write_text(text + "\n")
    print()
    print(f"results: {output}  ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
