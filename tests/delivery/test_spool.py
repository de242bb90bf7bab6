"""The spool: events kept on disk across outages and restarts, never sent twice."""

import json
import os
from pathlib import Path

import pytest
from conftest import make_event

from helpers import KEY, run_script
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer, free_port

pytestmark = pytest.mark.usefixtures("closing")


SPOOL_APP = """
import logging, sys, ez_pixel
ez_pixel.init_pixel(spool_dir=sys.argv[1] if len(sys.argv) > 1 else "spool", connect_timeout=0.5)
for i in range(5):
    logging.getLogger("job").error("job %d failed", i)
"""


def test_spool_keeps_events_across_an_outage_and_a_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/ingest"
    down = run_script(tmp_path, SPOOL_APP, ingest_url=url)
    assert down.returncode == 0, down.stderr
    spooled = sorted(os.listdir(tmp_path / "spool"))
    assert len(spooled) == 5
    originals = [json.loads((tmp_path / "spool" / name).read_bytes()) for name in spooled]
    with FaultServer(port=port) as server:
        up = run_script(
            tmp_path, "import ez_pixel; ez_pixel.init_pixel(spool_dir='spool')", ingest_url=url
        )
        assert up.returncode == 0, up.stderr
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == [o["event_id"] for o in originals]
    assert [b["occurred_at"] for b in bodies] == [o["occurred_at"] for o in originals]
    assert os.listdir(tmp_path / "spool") == []


def test_two_processes_sharing_a_spool_never_send_twice(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    for i in range(40):
        event = make_event(event_id=f"spooled-{i}", project_key=KEY, message=f"m{i}")
        (spool / f"{i:020d}-spooled-{i}.json").write_text(json.dumps(event))
    (spool / "00000000000000000000-corrupt.json").write_text('{"half": ')
    code = "import ez_pixel; ez_pixel.init_pixel(spool_dir='spool'); ez_pixel.flush_pixel(10)"
    with FaultServer(delay=0.002) as server:
        script = tmp_path / "replay.py"
        script.write_text(code)
        import subprocess
        import sys

        env = {**os.environ, "PIXEL_PROJECT_KEY": KEY, "PIXEL_INGEST_URL": server.ingest_url}
        procs = [
            subprocess.Popen([sys.executable, str(script)], cwd=str(tmp_path), env=env)
            for _ in range(2)
        ]
        assert all(p.wait(60) == 0 for p in procs)
        ids = [b["event_id"] for b in server.bodies()]
    assert sorted(ids) == sorted(f"spooled-{i}" for i in range(40))
    assert os.listdir(spool) == []  # the corrupt file was removed, not fatal


def test_unusable_spool_never_breaks_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    result = run_script(
        tmp_path,
        SPOOL_APP,
        ingest_url=f"http://127.0.0.1:{free_port()}/ingest",
        env={"UNUSED": "1"},
        name="app.py",
    )
    assert result.returncode == 0
    result = run_script(
        tmp_path,
        "import sys; sys.argv.append('not-a-dir'); exec(open('app.py').read())",
        name="blocked.py",
        ingest_url=f"http://127.0.0.1:{free_port()}/ingest",
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "5 event(s) not delivered" in result.stderr
