"""An outage with a spool: events reported while the server is down reach disk at once.

A real process reports during an outage and is killed with SIGKILL once its
events are on disk; a later process with the same spool delivers them all.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

from helpers import KEY, run_script
from servers import FaultServer, free_port

# Reports one event, waits until the outage has spooled it, reports three more
# (the worker is then backing off), says so, and lives on until it is killed.
OUTAGE_APP = """
import os, sys, time, ez_pixel
ez_pixel.init_pixel(spool_dir="spool", connect_timeout=0.5)
ez_pixel.report_pixel("before the outage was known")
deadline = time.monotonic() + 20
while not [n for n in os.listdir("spool") if n.endswith(".json")] and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)  # deep into the backoff: the worker waits for the server, not for work
for i in range(3):
    ez_pixel.report_pixel(f"during the outage {i}")
print("reported", flush=True)
time.sleep(600)
"""


def _spooled(spool: Path) -> List[str]:
    names = [n for n in os.listdir(spool) if n.endswith(".json")] if spool.exists() else []
    return sorted(json.loads((spool / n).read_text())["message"] for n in names)


def test_events_reported_during_an_outage_survive_a_kill_9(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/ingest"
    (tmp_path / "app.py").write_text(OUTAGE_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXEL_")}
    env.update(PIXEL_PROJECT_KEY=KEY, PIXEL_INGEST_URL=url)
    app = subprocess.Popen(
        [sys.executable, "app.py"], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "reported"
        expected = ["before the outage was known"] + [f"during the outage {i}" for i in range(3)]
        deadline = time.monotonic() + 10  # documented: within connect_timeout, plus a moment
        while _spooled(tmp_path / "spool") != expected and time.monotonic() < deadline:
            time.sleep(0.01)
        app.send_signal(signal.SIGKILL)
    finally:
        app.kill()
        app.wait(10)
    assert _spooled(tmp_path / "spool") == expected
    with FaultServer(port=port) as server:
        later = run_script(
            tmp_path, "import ez_pixel; ez_pixel.init_pixel(spool_dir='spool')", ingest_url=url
        )
        assert later.returncode == 0, later.stderr
        assert sorted(b["message"] for b in server.bodies()) == expected
