"""The revision the error came from reaches the agent's ``Runtime:`` line."""

import logging
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest

import ez_pixel
from ez_pixel._event.revision import COMMIT_VARIABLES, FALLBACK_VARIABLES, runtime_with_revision
from helpers import run_script
from strict_server import js_length

SHA = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
OTHER = "ffffeeeeddddccccbbbbaaaa9999888877776666"


@pytest.fixture(autouse=True)
def no_ci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in COMMIT_VARIABLES + FALLBACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _git(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / ".git" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_loose_ref_packed_ref_and_detached_head(tmp_path: Path) -> None:
    loose, packed, detached = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _git(loose, {"HEAD": "ref: refs/heads/main\n", "refs/heads/main": SHA + "\n"})
    _git(
        packed,
        {
            "HEAD": "ref: refs/heads/feature/x\n",
            "packed-refs": f"# pack-refs with: peeled\n{OTHER} refs/heads/main\n"
            f"{SHA} refs/heads/feature/x\n",
        },
    )
    _git(detached, {"HEAD": SHA + "\n"})
    (loose / "src" / "app").mkdir(parents=True)  # the project root may be below the repo's
    for root in (loose / "src" / "app", packed, detached):
        assert runtime_with_revision("python-3.12.3", str(root), None) == (
            "python-3.12.3 rev:1a2b3c4d5e6f"
        )
    assert runtime_with_revision("python-3.12.3", str(tmp_path / "none"), None) == "python-3.12.3"


def test_linked_worktree_reads_refs_from_the_common_dir(tmp_path: Path) -> None:
    main = tmp_path / "main"
    _git(main, {"HEAD": "ref: refs/heads/main\n", "refs/heads/main": OTHER})
    _git(
        main, {"worktrees/wt/HEAD": "ref: refs/heads/topic\n", "worktrees/wt/commondir": "../..\n"}
    )
    _git(main, {"packed-refs": f"{SHA} refs/heads/topic\n"})
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    assert runtime_with_revision("python-3.8.18", str(worktree), None).endswith(" rev:1a2b3c4d5e6f")


def test_ci_variables_win_over_git_and_release_wins_over_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    _git(repo, {"HEAD": OTHER})
    monkeypatch.setenv("RENDER_GIT_COMMIT", SHA.upper())
    assert runtime_with_revision("python-3.12.3", str(repo), None).endswith("rev:1a2b3c4d5e6f")
    assert runtime_with_revision("python-3.12.3", str(repo), "v1.4.2 (hotfix)") == (
        "python-3.12.3 rev:v1.4.2-(hotfix)"
    )
    monkeypatch.delenv("RENDER_GIT_COMMIT")
    monkeypatch.setenv("K_REVISION", "shop-00042-xyz")
    assert runtime_with_revision("python-3.12.3", str(tmp_path / "x"), None).endswith(
        "rev:shop-00042-xyz"
    )


def test_runtime_stays_within_64_units(tmp_path: Path) -> None:
    long_release = "release-" + "😀" * 60
    runtime = runtime_with_revision("python-3.12.3", str(tmp_path), long_release)
    assert js_length(runtime) <= 64 and runtime.startswith("python-3.12.3 rev:release-😀")
    crowded = "python-3.12.3 " + "x" * 48
    assert runtime_with_revision(crowded, str(tmp_path), "v1") == crowded


def test_events_carry_the_revision_from_git_without_a_subprocess(
    tmp_path: Path, collector: Any
) -> None:
    _git(tmp_path, {"HEAD": "ref: refs/heads/main\n", "refs/heads/main": SHA})
    code = """
        import logging, subprocess, ez_pixel
        # On Python 3.8 importing uuid (an event's id) runs `uname -p` via platform.uname():
        # the standard library's, once, not the revision's. Import it before refusing.
        import uuid
        def refuse(*args, **kwargs):
            raise AssertionError("no subprocess")
        subprocess.Popen = refuse
        ez_pixel.init_pixel(release=None)
        logging.getLogger("app").error("with revision")
    """
    env = {k: "" for k in COMMIT_VARIABLES}
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url, env=env)
    assert result.returncode == 0, result.stderr
    (event,) = collector.wait_for(1)
    assert event["runtime"].endswith(" rev:1a2b3c4d5e6f")
    assert event["runtime"].startswith("python-")
    assert not os.path.exists(tmp_path / ".git" / "index")  # nothing written to the repo
    assert subprocess is not None


def test_an_event_whose_full_build_failed_still_names_the_revision(pixel: Any, events: Any) -> None:
    """The stackless fallback event keeps the runtime line the agent reads, revision included."""
    # An imitation traceback whose frame has no real code object: the full build fails.
    frame = SimpleNamespace(f_code=object(), f_globals={})
    tb = SimpleNamespace(tb_frame=frame, tb_lineno=3, tb_lasti=0, tb_next=None)
    pixel(release="abc1234")
    log = logging.getLogger("tests.revision.fallback")
    log.propagate = False  # only ez-pixel: pytest's own handlers cannot print such a traceback
    log.handlers = [h for h in logging.getLogger().handlers if isinstance(h, ez_pixel.PixelHandler)]
    error = ValueError("imitated")
    log.error("odd", exc_info=(ValueError, error, tb))
    (event,) = events(1)
    assert event["stack"] == [] and event["type"] == "ValueError"  # the fallback event
    assert event["runtime"].endswith(" rev:abc1234")
