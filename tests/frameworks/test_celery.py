"""Celery: failing tasks run by a real ``celery worker`` process.

The broker is kombu's filesystem transport in a temporary directory, so the
worker is the real command line (which imports the app, then hijacks the root
logger) and this process only sends tasks. The example's own broker settings
are replaced by a three-line wrapper module.
"""

import os
import signal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery")

from helpers import assert_valid

WRAPPER = """
import os
from celery_app import app

app.conf.broker_url = "filesystem://"
app.conf.broker_transport_options = {
    "data_folder_in": os.environ["BROKER_DIR"],
    "data_folder_out": os.environ["BROKER_DIR"],
    "control_folder": os.path.join(os.environ["BROKER_DIR"], "control"),
    "polling_interval": 0.05,
}
"""


def send(broker_dir: Path, name: str, *args: Any) -> None:
    """Send a task by name, as a web app would, without importing the worker's code."""
    from celery import Celery

    app = Celery("producer", broker="filesystem://")
    folders = {
        "data_folder_in": str(broker_dir),
        "data_folder_out": str(broker_dir),
        "control_folder": str(broker_dir / "control"),
    }
    app.conf.broker_transport_options = folders
    app.send_task(name, args=list(args))


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_failing_task_and_task_logger_errors_arrive(
    fw: Any, collector: Any, tmp_path: Path, pool: str
) -> None:
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    (tmp_path / "fs_worker.py").write_text(WRAPPER)
    env = fw.env(
        BROKER_DIR=str(broker_dir),
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(fw.examples)]),
    )
    argv = [fw.python, "-m", "celery", "-A", "fs_worker", "worker", "--loglevel=INFO", "-P", pool]
    argv += ["-c", "1", "--without-heartbeat", "--without-mingle", "--without-gossip"]
    worker = fw.start(argv, cwd=fw.examples, env=env)
    send(broker_dir, "celery_app.charge", 2, -5)
    send(broker_dir, "celery_app.refund", 2)
    collector.wait_for(2, timeout=30)
    assert worker.stop() in (0, -signal.SIGTERM), worker.output()
    output = worker.output()
    assert "raised unexpected: ValueError" in output  # Celery's own log still works
    assert "ez-pixel" not in output

    charge, refund = sorted(collector.accepted(), key=lambda e: e["type"] != "ValueError")
    assert len(collector.received) == 2
    assert_valid(charge)
    assert charge["type"] == "ValueError" and charge["level"] == "error"
    assert charge["logger"] == "celery.app.trace"
    assert charge["message"].startswith("Task celery_app.charge[")
    assert charge["message"].endswith(
        "raised unexpected: ValueError('cannot charge -5 cents for order 2')"
    )
    inner = charge["stack"][0]  # the task's own traceback
    assert inner["fn"] == "charge" and inner["file"] == "celery_app.py" and inner["in_app"]
    assert charge["code_context"]["file"] == "celery_app.py"

    assert refund["type"] == "celery_app.GatewayTimeout"
    assert refund["logger"] == "celery_app"  # a task logger: under the non-propagating celery.task
    assert refund["message"] == "refund of order 2 failed: no answer about order 2 within 10s"
    assert [f["fn"] for f in refund["stack"] if f["in_app"]] == ["call_gateway", "refund"]
