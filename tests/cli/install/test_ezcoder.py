"""``ez-pixel install`` and ``send-test`` in the ezcoder loop, against a server with its API.

The server is ``ez-pixel serve``'s collector; ``EZ_PIXEL_TEST_SERVER=http://HOST:PORT``
runs the same tests against another server with the same management API, such
as the hosted server's code run locally (CI cannot run it). HOME is a
temporary folder: ``~/.ezcoder/projects.json`` is the test's own.

The ezcoder installer's side is written out here from its source
(``packages/pixel/src/install.ts``): how it finds a project again
(``findMappingByPath``, ``readEnvKey``) and what it writes (``writeEnvKey``,
``writeProjectsMapping``), so each installer is shown to recognise the other's work.
"""

import json
import os
import re
import shutil
import stat
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from ez_pixel.cli import main
from ez_pixel.testing import capture_events

FIXTURES = Path(__file__).resolve().parents[2] / "install_fixtures"
PROBE = "__pixel_install_probe__"


@pytest.fixture
def server() -> Iterator[str]:
    """The base URL of a server answering ``/ingest`` and the management API."""
    other = os.environ.get("EZ_PIXEL_TEST_SERVER")
    if other:
        yield other.rstrip("/")
        return
    with capture_events() as collector:
        yield collector.url


@pytest.fixture
def home(tmp_path: Path, monkeypatch: Any) -> Path:
    """A fresh HOME; no PIXEL_*/EZCODER_* variables; the working directory in tmp_path."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("PIXEL_PROJECT_KEY", "PIXEL_INGEST_URL", "EZCODER_PIXEL_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


def api(server: str, method: str, path: str, secret: str = "", body: Any = None) -> Any:
    """One management call, written out here (not the code under test)."""
    headers = {"content-type": "application/json"}
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server + path, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        return json.loads(answer.read())


def errors_of(server: str, project_id: str, secret: str) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = api(server, "GET", f"/api/projects/{project_id}/errors", secret)[
        "errors"
    ]
    return rows


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def run(capsys: Any, *argv: str) -> Tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def projects(home: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((home / ".ezcoder/projects.json").read_text())
    return data


# -- the ezcoder installer's side, from install.ts ----------------------------------------


def ts_find_mapping_by_path(home: Path, root: str) -> Optional[Dict[str, Any]]:
    """``findMappingByPath``: the entry for ``root``, one with a secret first."""
    path = home / ".ezcoder/projects.json"
    if not path.exists():
        return None
    fallback = None
    for project_id, entry in json.loads(path.read_text()).items():
        if entry["path"] != root:
            continue
        if entry.get("secret"):
            return {"id": project_id, **entry}
        fallback = fallback or {"id": project_id, **entry}
    return fallback


def ts_read_env_key(env_file: Path) -> Optional[str]:
    """``readEnvKey(envPath, "EZCODER_PIXEL_KEY")``."""
    match = re.search(r"^EZCODER_PIXEL_KEY=(.+)$", env_file.read_text(), re.M)
    return match.group(1).strip() if match else None


def ts_install(home: Path, root: Path, server: str, name: str) -> Dict[str, str]:
    """What ``install()`` leaves for a new Python project: the API call, .env, projects.json."""
    created: Dict[str, str] = api(server, "POST", "/api/projects", body={"name": name})
    (root / ".env").write_text(f"EZCODER_PIXEL_KEY={created['key']}\n")
    path = home / ".ezcoder/projects.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current[created["id"]] = {"name": name, "path": str(root), "secret": created["secret"]}
    path.write_text(json.dumps(current, indent=2) + "\n")
    return created


# -- install -------------------------------------------------------------------------------


def test_install_registers_records_and_deletes_its_probe(
    server: str, home: Path, capsys: Any, tmp_path: Path
) -> None:
    project = copy("flask_poetry", tmp_path)
    code, out = run(capsys, "install", str(project), "--ingest-url", server + "/ingest")
    assert code == 0, out
    env = (project / ".env").read_text()
    key = re.search(r"^EZCODER_PIXEL_KEY=(pk_\w+)$", env, re.M)
    assert key and f"PIXEL_INGEST_URL={server}/ingest" in env and "PIXEL_PROJECT_KEY" not in env
    (project_id, entry), *others = projects(home).items()
    assert not others and entry["name"] == "flaskapp" and entry["path"] == str(project)
    assert entry["secret"].startswith("sk_")
    assert stat.S_IMODE((home / ".ezcoder/projects.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".ezcoder").stat().st_mode) == 0o700
    assert os.listdir(home / ".ezcoder") == ["projects.json"]  # no temporary or lock file
    assert entry["secret"] not in out  # kept in projects.json, never printed
    for path in project.rglob("*"):
        assert not path.is_file() or entry["secret"] not in path.read_text(errors="replace")
    assert "found in project" in out and "deleted: no probe stays" in out
    assert errors_of(server, project_id, entry["secret"]) == []  # the probe is gone

    # Again: the same project, found through .env and projects.json; nothing registered.
    before = (home / ".ezcoder/projects.json").read_bytes()
    code, out = run(capsys, "install", str(project))
    assert code == 0 and "Registered" not in out and "Nothing to change" in out, out
    assert f"project {project_id} (flaskapp) found in ~/.ezcoder/projects.json" in out
    assert (home / ".ezcoder/projects.json").read_bytes() == before
    assert errors_of(server, project_id, entry["secret"]) == []

    # The ezcoder installer would reuse it too: its own lookups find id, key and secret.
    mapping = ts_find_mapping_by_path(home, str(project))
    assert mapping is not None and mapping["id"] == project_id and mapping["secret"]
    assert ts_read_env_key(project / ".env") == key.group(1)


def test_a_project_installed_by_the_ezcoder_installer_is_reused(
    server: str, home: Path, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    (project / ".env").write_text(f"PIXEL_INGEST_URL={server}/ingest\n")
    created = ts_install(home, project, server, "plaintool")
    (project / ".env").write_text(
        f"PIXEL_INGEST_URL={server}/ingest\nEZCODER_PIXEL_KEY={created['key']}\n"
    )
    code, out = run(capsys, "install", str(project))
    assert code == 0, out
    assert "Registered" not in out and f"project {created['id']} (plaintool) found" in out
    assert list(projects(home)) == [created["id"]]
    assert errors_of(server, created["id"], created["secret"]) == []


def test_projects_json_keeps_other_entries_and_a_broken_file_is_left_alone(
    server: str, home: Path, capsys: Any, tmp_path: Path
) -> None:
    others = {
        "proj_other": {"name": "web", "path": "/src/web", "secret": "sk_live_" + "a" * 64},
        "proj_legacy": {"name": "old", "path": "/src/old", "note": "kept"},
    }
    (home / ".ezcoder").mkdir()
    (home / ".ezcoder/projects.json").write_text(json.dumps(others))
    project = copy("plain_pep621", tmp_path)
    code, out = run(capsys, "install", str(project), "--ingest-url", server + "/ingest")
    assert code == 0, out
    data = projects(home)
    assert {k: v for k, v in data.items() if k in others} == others and len(data) == 3

    broken = b'{"proj_x": {"name": "x", "path": "/x",'  # cut short by a crash elsewhere
    (home / ".ezcoder/projects.json").write_bytes(broken)
    fresh = copy("flask_poetry", tmp_path)
    code, out = run(capsys, "install", str(fresh), "--ingest-url", server + "/ingest")
    assert (home / ".ezcoder/projects.json").read_bytes() == broken
    assert "projects.json is not valid JSON: left alone" in out
    assert "secret: sk_" in out  # nowhere else to keep it: shown once
    assert code == 0, out  # reporting works; only the ezcoder side is missing


def test_a_key_of_another_project_fails_the_probe(
    server: str, home: Path, capsys: Any, tmp_path: Path
) -> None:
    project = copy("plain_pep621", tmp_path)
    first = ts_install(home, project, server, "plaintool")
    second: Dict[str, str] = api(server, "POST", "/api/projects", body={"name": "other"})
    (project / ".env").write_text(
        f"EZCODER_PIXEL_KEY={second['key']}\nPIXEL_INGEST_URL={server}/ingest\n"
    )
    code, out = run(capsys, "install", str(project))
    assert code == 1, out
    assert f"the probe is not in project {first['id']}'s error list" in out and "FAILED" in out


def test_a_key_without_a_secret_is_used_and_the_gap_is_said(
    server: str, home: Path, capsys: Any, tmp_path: Path
) -> None:
    created: Dict[str, str] = api(server, "POST", "/api/projects", body={"name": "given"})
    project = copy("plain_pep621", tmp_path)
    code, out = run(
        capsys,
        "install",
        str(project),
        "--project-key",
        created["key"],
        "--ingest-url",
        server + "/ingest",
    )
    assert code == 0, out
    assert "the ezcoder tools cannot see or fix this project's errors" in out
    assert "not confirmed through the error list" in out
    assert not (home / ".ezcoder/projects.json").exists()
    rows = errors_of(server, created["id"], created["secret"])
    assert [row["type"] for row in rows] == ["InstallProbe"]  # hidden by the ezcoder tools
    assert rows[0]["fingerprint"].startswith(PROBE)


# -- send-test -----------------------------------------------------------------------------


def test_send_test_uses_the_projects_env_and_cleanup_deletes_the_event(
    server: str, home: Path, capsys: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    project = copy("plain_pep621", tmp_path)
    assert run(capsys, "install", str(project), "--ingest-url", server + "/ingest")[0] == 0
    ((project_id, entry),) = projects(home).items()
    monkeypatch.chdir(project)

    code, out = run(capsys, "send-test")
    assert code == 0, out
    assert "key pk_" in out and "from EZCODER_PIXEL_KEY in .env" in out
    assert "It stays among the project's open errors" in out
    rows = errors_of(server, project_id, entry["secret"])
    assert [row["type"] for row in rows] == ["ez_pixel.cli.send_test.PixelSendTestError"]

    monkeypatch.chdir(project / "plaintool")  # .env and the project found upwards, as init does
    code, out = run(capsys, "send-test", "--cleanup")
    assert code == 0 and f"deleted error {rows[0]['id']} (--cleanup)" in out, out
    assert errors_of(server, project_id, entry["secret"]) == []

    monkeypatch.chdir(tmp_path)  # no projects.json entry here: nothing is sent
    code, out = run(capsys, "send-test", "--cleanup", "--project-key", "pk_test_x")
    assert code == 2 and "--cleanup needs this project's secret" in out
    assert "nothing was sent" in out and "sending" not in out


def test_send_test_without_a_key_says_where_to_find_one(home: Path, capsys: Any) -> None:
    code, out = run(capsys, "send-test")
    assert code == 2 and "no project key: pass --project-key" in out
    assert "project_key=" not in out and "Traceback" not in out


def test_send_test_next_to_serve_needs_nothing_copied(
    home: Path, capsys: Any, tmp_path: Path
) -> None:
    """``ez-pixel serve`` in a folder, then ``send-test`` there: its default project is used."""
    with capture_events(db=str(tmp_path / "ez-pixel.db")) as collector:
        project, _ = collector.store.default_project()  # as `serve` makes it on its first start
        url = collector.ingest_url  # serve's own port is 8765; the test's is free
        code, out = run(capsys, "send-test", "--ingest-url", url)
        assert code == 0, out
        assert "from the default project of ./ez-pixel.db (ez-pixel serve)" in out
        assert [e["project_key"] for e in collector.accepted()] == [project["key"]]
        code, out = run(capsys, "send-test", "--ingest-url", url, "--cleanup")
        assert code == 0 and "(--cleanup)" in out, out
        assert collector.store.list_errors(project["id"]) == []
