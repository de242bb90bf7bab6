"""``with multiprocessing.Pool(...)``: errors logged by its tasks are all delivered.

Leaving the block terminates the workers (SIGTERM) as soon as the results
are in, before anything queued in them would be sent at their exit: in a
multiprocessing child each event is delivered before the call that logged
it returns.
"""

from pathlib import Path

import pytest

from ez_pixel.testing import RecordingCollector
from helpers import run_script

POOL_APP = """
import logging, multiprocessing, sys, ez_pixel

ez_pixel.init_pixel()  # at import: spawned workers import this module too


def task(number):
    try:
        {{}}[f"missing-{{number}}"]
    except KeyError:
        logging.getLogger("pool").exception("task %d failed", number)
    return number


if __name__ == "__main__":
    context = multiprocessing.get_context("{method}")
    with context.Pool({workers}) as pool:
        assert pool.map(task, range({tasks})) == list(range({tasks}))
    print("done")
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize(("workers", "tasks"), [(4, 4), (2, 12)])
def test_every_error_logged_in_a_pool_task_is_delivered(
    tmp_path: Path, collector: RecordingCollector, method: str, workers: int, tasks: int
) -> None:
    code = POOL_APP.format(method=method, workers=workers, tasks=tasks)
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    messages = sorted(body["message"] for body in collector.accepted())
    assert messages == sorted(f"task {n} failed: 'missing-{n}'" for n in range(tasks))
