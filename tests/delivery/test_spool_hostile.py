"""Whatever the spool directory holds, delivery goes on; nothing the SDK did not write is sent.

Every file here is real, and so are the permissions checked: the spool holds
the project key and the messages, so it is the user's alone.
"""

import json
import os
import stat
from pathlib import Path
from typing import Any, Callable, List

import pytest
from conftest import make_event

import ez_pixel
from helpers import KEY, run_script
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import free_port

pytestmark = pytest.mark.usefixtures("closing")


def _event_file(path: Path, message: str) -> None:
    path.write_text(json.dumps(make_event(project_key=KEY, message=message)))


def _hostile_spool(spool: Path, outside: Path) -> List[str]:
    """Fill ``spool`` with one good event and every kind of file that is not one."""
    spool.mkdir(mode=0o700)
    _event_file(spool / "00000000000000000009-good.json", "spooled before")
    (spool / "00000000000000000001-deep.json").write_text("[" * 100_000)
    (spool / "00000000000000000002-junk.json").write_bytes(bytes(range(256)) * 40)
    (spool / "00000000000000000003-empty.json").write_bytes(b"")
    huge = make_event(project_key=KEY, message="x" * 3_000_000)
    (spool / "00000000000000000004-huge.json").write_text(json.dumps(huge))
    (spool / "00000000000000000005-dir.json").mkdir()
    os.mkfifo(str(spool / "00000000000000000006-fifo.json"))
    _event_file(outside / "planted.json", "outside file, never to be sent")
    os.symlink(str(outside / "planted.json"), str(spool / "00000000000000000007-link.json"))
    os.symlink(str(outside), str(spool / "00000000000000000008-dirlink.json"))
    os.symlink(str(outside / "nowhere"), str(spool / "00000000000000000010-dangling.json"))
    (spool / "00000000000000000011-list.json").write_text("[1, 2, 3]")
    (spool / "00000000000000000012-notevent.json").write_text('{"message": "hello"}')
    _event_file(spool / "00000000000000000013-theirs.json", "written by another user")
    os.chown(str(spool / "00000000000000000013-theirs.json"), 65534, 65534)
    return [n for n in os.listdir(spool) if "good" not in n]


def test_no_file_in_the_spool_stops_delivery(
    tmp_path: Path, pixel: Callable[..., Any], events: Callable[..., List[Any]]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = _hostile_spool(tmp_path / "spool", outside)
    client = pixel(spool_dir=str(tmp_path / "spool"))
    ez_pixel.report_pixel("reported after the replay")
    received = events(2)
    assert ez_pixel.flush_pixel(10)
    messages = sorted(e["message"] for e in received)
    assert messages == ["reported after the replay", "spooled before"]
    stats = client.stats()
    assert stats["dropped"].get("spool_unreadable") == len(hostile)
    assert stats["internal_errors"] == 0
    left = sorted(os.listdir(tmp_path / "spool"))
    assert left == ["00000000000000000005-dir.json.bad"]  # a directory is only renamed
    assert (outside / "planted.json").exists()  # a link is removed, never what it points to


def test_an_event_of_another_project_is_left_alone(
    tmp_path: Path, pixel: Callable[..., Any], events: Callable[..., List[Any]]
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    other = spool / "00000000000000000001-other.json"
    other.write_text(json.dumps(make_event(project_key="pk_test_other", message="theirs")))
    pixel(spool_dir=str(spool))
    ez_pixel.report_pixel("ours")
    assert [e["message"] for e in events(1)] == ["ours"]
    assert ez_pixel.flush_pixel(5)
    assert os.listdir(spool) == [other.name]


OUTAGE_APP = """
import os, ez_pixel
os.umask(UMASK)
ez_pixel.init_pixel(spool_dir="spool", connect_timeout=0.5)
ez_pixel.report_pixel("kept on disk")
"""


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_spool_files_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    url = f"http://127.0.0.1:{free_port()}/ingest"
    result = run_script(tmp_path, OUTAGE_APP.replace("UMASK", oct(umask)), ingest_url=url)
    assert result.returncode == 0, result.stderr
    spool = tmp_path / "spool"
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700
    files = os.listdir(spool)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(spool / files[0]).st_mode) == 0o600


def test_an_existing_open_spool_directory_is_made_private(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    os.chmod(spool, 0o777)
    url = f"http://127.0.0.1:{free_port()}/ingest"
    result = run_script(tmp_path, OUTAGE_APP.replace("UMASK", "0o022"), ingest_url=url)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700
    assert len(os.listdir(spool)) == 1


def test_a_spool_directory_that_is_a_link_is_never_written(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(tmp_path / "spool"))
    url = f"http://127.0.0.1:{free_port()}/ingest"
    result = run_script(tmp_path, OUTAGE_APP.replace("UMASK", "0o022"), ingest_url=url)
    assert result.returncode == 0
    assert "not spooling" in result.stderr
    assert "1 event(s) not delivered" in result.stderr
    assert os.listdir(elsewhere) == []
