"""A corpus of real bugs maps to groups one to one, on every machine and Python.

``corpus/`` is a small project whose ``run.py`` triggers each bug (some
several times, through other values or call paths). It runs as a real
subprocess from two install paths, the second with lines inserted above
every line of code, under the oldest and the newest supported Python; its
events go to a server that validates as the hosted one does. Every run must
give each bug exactly one fingerprint, different bugs different
fingerprints, and the same fingerprints in every run.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest

from helpers import KEY
from strict_server import StrictServer

CORPUS = Path(__file__).parent / "corpus"
WORKTREE = Path(__file__).resolve().parents[2]
#: The oldest and newest supported Pythons; override with EZ_PIXEL_CORPUS_PYTHONS (a:b).
PYTHONS = (
    "/root/.pyenv/versions/3.8.18/bin/python3.8",
    "/root/.pyenv/versions/3.13.0/bin/python3.13",
)
#: Events run.py sends: 16 exception events, 6 message events.
EVENTS = 22
#: Message events are labelled by what they say.
MESSAGE_LABELS = (
    ("payment declined for order", "fstring-payment"),
    ("card ", "concat-card"),
    ("user ", "template-login"),
)
PAYLIB = '''"""A payment library, installed in the project's own .venv."""


class CardError(Exception):
    pass


def _validate(amount):
    if amount <= 0:
        raise CardError("amount must be positive, got %d" % amount)


def charge(amount):
    _validate(amount)
    return "ok"
'''


def _pythons() -> List[str]:
    chosen = os.environ.get("EZ_PIXEL_CORPUS_PYTHONS")
    found = chosen.split(":") if chosen else [p for p in PYTHONS if os.path.exists(p)]
    return found or [sys.executable]


def _urllib3_for(python: str) -> str:
    """A directory holding a urllib3 that ``python`` can import (installed once, cached)."""
    probe = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    target = Path(tempfile.gettempdir()) / "ez-pixel-tests" / f"urllib3-py{probe.stdout.strip()}"
    if not (target / "urllib3").is_dir():
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + ["--target", str(target), "urllib3"],
            capture_output=True,
            check=True,
            timeout=300,
        )
    return str(target)


def _project(directory: Path, shift: bool) -> Path:
    """A copy of the corpus at ``directory``; ``shift`` inserts lines above every line of code."""
    shutil.copytree(CORPUS, directory, ignore=shutil.ignore_patterns("__pycache__"))
    if shift:
        for path in directory.rglob("*.py"):
            text = path.read_text()
            header, _, body = text.partition('"""\n')  # keep the docstring first
            path.write_text(header + '"""\n' + "# moved down\n\n# by an edit above\n" + body)
    site = directory / ".venv" / "lib" / "python3" / "site-packages"
    (site / "paylib").mkdir(parents=True)
    (site / "paylib" / "__init__.py").write_text(PAYLIB)
    (directory / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return directory


def _label(event: Dict[str, Any]) -> str:
    found = re.match(r"\[([a-z-]+)\]", event["message"])
    if found:
        return found.group(1)
    for prefix, label in MESSAGE_LABELS:
        if event["message"].startswith(prefix):
            return label
    raise AssertionError(f"unlabelled event {event['message']!r}")


def _run(python: str, project: Path, server: StrictServer, seen: int) -> List[Dict[str, Any]]:
    site = str(project / ".venv" / "lib" / "python3" / "site-packages")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXEL_", "PYTHON"))}
    env.update(
        PIXEL_PROJECT_KEY=KEY,
        PIXEL_INGEST_URL=server.ingest_url,
        PYTHONPATH=os.pathsep.join([str(project), site, str(WORKTREE), _urllib3_for(python)]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    result = subprocess.run(
        [python, "run.py"], cwd=str(project), env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answers = server.wait_answers(seen + EVENTS)[seen:]
    assert [status for status, _, _ in answers] == [200] * EVENTS, [a[:2] for a in answers]
    return [event for _, _, event in answers]


@pytest.fixture(scope="module")
def runs() -> Dict[str, List[Dict[str, Any]]]:
    """Every run's events, by ``python@install``."""
    found: Dict[str, List[Dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp, StrictServer() as server:
        projects = {
            "a": _project(Path(tmp) / "a" / "shop", shift=False),
            "b": _project(Path(tmp) / "b" / "deeper" / "checkout", shift=True),
        }
        for python in _pythons():
            for name, project in projects.items():
                found[f"{python}@{name}"] = _run(python, project, server, len(server.answers))
    return found


def _groups(events: List[Dict[str, Any]]) -> Dict[str, Set[str]]:
    groups: Dict[str, Set[str]] = {}
    for event in events:
        groups.setdefault(_label(event), set()).add(event["fingerprint"])
    return groups


def test_each_bug_is_one_group_and_bugs_never_share_one(runs: Dict[str, Any]) -> None:
    for run, events in runs.items():
        groups = _groups(events)
        assert len(groups) == 15, (run, sorted(groups))
        for label, fingerprints in groups.items():
            assert len(fingerprints) == 1, (run, label, events)
        every = [next(iter(f)) for f in groups.values()]
        assert len(set(every)) == len(every), (run, groups)


def test_fingerprints_are_the_same_on_every_install_path_python_and_line_shift(
    runs: Dict[str, Any],
) -> None:
    mapped = {run: _groups(events) for run, events in runs.items()}
    first = next(iter(mapped.values()))
    for run, groups in mapped.items():
        assert groups == first, run
    assert len(runs) == 2 * len(_pythons())


def test_what_the_agent_reads_in_the_corpus(runs: Dict[str, Any]) -> None:
    for events in runs.values():
        by_label = {_label(e): e for e in events}
        wrapped = by_label["wrapped-key"]
        assert wrapped["type"] == "shop.errors.AppError"
        assert wrapped["message"].startswith("[wrapped-key]: request failed; caused by KeyError(")
        assert wrapped["stack"][0]["file"] == "shop/calc.py" and wrapped["stack"][0]["in_app"]
        assert wrapped["code_context"]["file"] == "shop/calc.py"
        library = by_label["venv-lib"]
        assert library["stack"][0] == {**library["stack"][0], "file": "paylib/__init__.py"}
        assert not library["stack"][0]["in_app"]
        assert library["type"] == "paylib.CardError"
        assert library["code_context"]["file"] == "shop/payments.py"
        assert all(not f["file"].startswith("/") for e in events for f in e["stack"])
        assert all(e["runtime"].startswith("python-3.") for e in events)
