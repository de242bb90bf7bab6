"""The ecosystem SDK's ``capture_*`` switches of ``init_pixel``, as ez-pixel maps them."""

from pathlib import Path
from typing import Any, Dict, Set

import pytest

from helpers import run_script

APP = """\
    import asyncio
    import logging
    import sys

    import ez_pixel

    ez_pixel.init_pixel(**{switches})
    print(sys.excepthook is sys.__excepthook__)


    def on_tick():
        raise KeyError("callback failed")


    async def main():
        asyncio.get_running_loop().call_soon(on_tick)
        await asyncio.sleep(0)
        await asyncio.sleep(0)


    asyncio.run(main())  # asyncio reports the callback's error on its own logger
    logging.getLogger("shop").error("stock level unreadable")
    ez_pixel.report_pixel("nightly export skipped")
    raise ValueError("uncaught at the end")
"""


@pytest.mark.parametrize(
    ("switches", "types"),
    [
        ({}, {"KeyError", "LogMessage", "ManualReport", "ValueError"}),
        ({"capture_uncaught": False}, {"KeyError", "LogMessage", "ManualReport"}),
        ({"capture_unhandled_rejections": False}, {"LogMessage", "ManualReport", "ValueError"}),
        ({"capture_logging_errors": False}, {"KeyError", "ManualReport", "ValueError"}),
        (
            {"capture_logging_errors": False, "capture_unhandled_rejections": False},
            {"ManualReport", "ValueError"},
        ),
    ],
)
def test_switch(tmp_path: Path, collector: Any, switches: Dict[str, bool], types: Set[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    result = run_script(tmp_path, APP.format(switches=switches), ingest_url=collector.ingest_url)
    assert result.returncode == 1 and "uncaught at the end" in result.stderr
    events = collector.wait_for(len(types))
    # The process has exited after its exit flush: nothing more is on the way.
    assert {event["type"] for event in events} == types
    assert len(collector.accepted()) == len(types)
    hooks_left_alone = result.stdout.strip() == "True"
    assert hooks_left_alone is (switches.get("capture_uncaught") is False)
    notice = "capture_logging_errors=False: errors logged through logging"
    assert (notice in result.stderr) is (switches.get("capture_logging_errors") is False)
