"""The contenders' virtualenvs under ``bench/.venvs/``, made once and reused.

ez-pixel 0.1.0 has the same module name as this repo's ez-pixel, so every
contender gets its own virtualenv, made with the machine's python3.11:

* ``ours``: this repository, editable, with structlog (and pyinstrument for profiles);
* ``v010``: ``ez-pixel==0.1.0`` from the package registry;
* ``sentry``: the latest ``sentry-sdk``.

A marker file records what was installed; ``--reinstall`` starts afresh.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENVS = BENCH / ".venvs"
MARKER = ".bench-installed"

#: What each virtualenv gets installed, as pip arguments.
REQUIREMENTS: Dict[str, List[str]] = {
    "ours": ["-e", f"{REPO}[structlog]", "pyinstrument"],
    "v010": ["ez-pixel==0.1.0"],
    "sentry": ["sentry-sdk"],
}

#: The distribution whose version each virtualenv reports.
DISTRIBUTION = {"ours": "ez-pixel", "v010": "ez-pixel", "sentry": "sentry-sdk"}


def find_python(requested: Optional[str] = None) -> str:
    """The interpreter to build virtualenvs from: ``requested``, else python3.11."""
    candidate = requested or shutil.which("python3.11") or sys.executable
    real = subprocess.run(
        [candidate, "-c", "import sys; print(sys.executable)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return real or candidate


def python_of(name: str) -> Path:
    """The interpreter of virtualenv ``name``."""
    return VENVS / name / "bin" / "python"


def ensure(name: str, base_python: str, reinstall: bool = False) -> Path:
    """Create virtualenv ``name`` and install its requirements unless already done."""
    venv = VENVS / name
    marker = venv / MARKER
    wanted = json.dumps({"python": base_python, "requirements": REQUIREMENTS[name]})
    if not reinstall and marker.exists() and marker.read_text() == wanted:
        return python_of(name)
    if venv.exists():
        shutil.rmtree(venv)
    print(f"  creating {venv.relative_to(REPO)} ({' '.join(REQUIREMENTS[name])})", flush=True)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    pip = [str(python_of(name)), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", *REQUIREMENTS[name]], check=True)
    marker.write_text(wanted)
    return python_of(name)


def version(name: str) -> str:
    """The installed version of the contender in virtualenv ``name``."""
    code = f"import importlib.metadata as m; print(m.version({DISTRIBUTION[name]!r}))"
    answer = subprocess.run(
        [str(python_of(name)), "-c", code], capture_output=True, text=True, check=False
    )
    return answer.stdout.strip() or "?"
