"""Every Python snippet in README.md and docs/*.md runs, and sends only to loopback.

Each ```` ```python ```` block is one test, named ``page:line`` (``docs/api.md:42``). It
runs in a fresh interpreter, in an empty temporary directory, with
``PIXEL_PROJECT_KEY`` / ``PIXEL_INGEST_URL`` pointing at a local test collector;
the local collector's default address in a snippet (``http://127.0.0.1:8765``)
is pointed at that collector too. A snippet fails its test when it exits non-zero
(it raised), when it tried to reach any host but loopback (a ``sitecustomize``
refuses and records such connections: a safety net, not a stand-in for delivery,
which always goes to the real collector), or when the collector refused one of
its events. An HTML comment right above a block, ``<!-- snippet: events=N -->``,
also requires exactly N events to arrive.

Blocks marked ```` ```python-fragment ```` are shown, never run: keep them for
signatures that are not programs, and say why next to them.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

import pytest

from helpers import KEY

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"python", "py"}
SHOWN_ONLY = {"python-fragment"}
LOCAL_DEFAULT = "http://127.0.0.1:8765"
EXPECT = re.compile(r"^<!--\s*snippet:\s*events=(\d+)\s*-->$")
FENCE = re.compile(r"^(```+|~~~+)\s*([^\s`]*)")
SNIPPET_TIMEOUT = 90.0
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Pages another change is writing; a link to them may land first.
PENDING = {"docs/collector.md", "docs/testing.md"}
_PROXY_VARIABLES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}

# Imported first by every Python process a snippet starts (PYTHONPATH), children included.
GUARD = textwrap.dedent(
    '''
    """test_docs guard: refuse and record every connection to a host but loopback."""
    import ipaddress
    import os
    import socket

    _LOG = os.environ["EZ_PIXEL_DOCS_GUARD_LOG"]
    _getaddrinfo = socket.getaddrinfo
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex


    def _loopback(host):
        host = str(host).strip("[]").split("%")[0]
        if host == "localhost":
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        return (mapped or address).is_loopback


    def _refuse(host):
        with open(_LOG, "a") as log:
            log.write(str(host) + "\\n")
        return OSError("test_docs: snippets may only reach loopback, not %r" % (host,))


    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _loopback(host):
            raise _refuse(host)
        return _getaddrinfo(host, *args, **kwargs)


    def _checked(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise _refuse(address[0])


    def connect(self, address):
        _checked(self, address)
        return _connect(self, address)


    def connect_ex(self, address):
        _checked(self, address)
        return _connect_ex(self, address)


    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    '''
)


class Snippet(NamedTuple):
    """One fenced block of a page."""

    page: str
    line: int
    info: str
    code: str
    events: Optional[int]


def snippets(path: Path) -> List[Snippet]:
    """Every fenced block of ``path``, with its info string and the line it starts on."""
    page = path.relative_to(ROOT).as_posix()
    found: List[Snippet] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: Optional[str] = None
    start, info, events = 0, "", None
    body: List[str] = []
    for number, line in enumerate(lines, 1):
        if fence is None:
            match = FENCE.match(line)
            if match:
                fence, info, start, body = match.group(1), match.group(2), number, []
                previous = lines[number - 2].strip() if number > 1 else ""
                expected = EXPECT.match(previous)
                events = int(expected.group(1)) if expected else None
        elif line.strip() == fence:
            found.append(Snippet(page, start, info, "\n".join(body) + "\n", events))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{page}: the block opened on line {start} is never closed"
    return found


ALL = [snippet for page in PAGES for snippet in snippets(page)]
PYTHON = [snippet for snippet in ALL if snippet.info in RUN]


def _env(tmp_path: Path, ingest_url: str) -> Dict[str, str]:
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIXEL_", "EZCODER_")) and k.upper() not in _PROXY_VARIABLES
    }
    env.update(
        PIXEL_PROJECT_KEY=KEY,
        PIXEL_INGEST_URL=ingest_url,
        PYTHONPATH=os.pathsep.join([str(guard_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        EZ_PIXEL_DOCS_GUARD_LOG=str(tmp_path / "refused.txt"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_every_page_has_runnable_snippets() -> None:
    """The README and the docs are found, and the README's quick start is among the tests."""
    assert (ROOT / "docs" / "index.md").exists()
    assert any(snippet.page == "README.md" for snippet in PYTHON)
    assert len({snippet.page for snippet in PYTHON}) >= 8


def test_python_blocks_are_run_or_marked_shown_only() -> None:
    """A Python block with a misspelt info string would silently never run."""
    for snippet in ALL:
        if snippet.info.lower().startswith("py"):
            assert snippet.info in RUN | SHOWN_ONLY, (
                f"{snippet.page}:{snippet.line}: {snippet.info}"
            )


def test_readme_opens_with_the_demo_then_the_contributors_test_command() -> None:
    """CI and reviewers run the README's first two commands: the demo, then the tests."""
    commands = [snippet for snippet in snippets(ROOT / "README.md") if snippet.info == "bash"][:2]
    assert [snippet.line < 20 for snippet in commands] == [True, True]
    assert "ez-pixel demo" in commands[0].code and "pytest" in commands[1].code
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert "Contributing" in "\n".join(readme[commands[0].line : commands[1].line])


def test_relative_links_point_to_files() -> None:
    """Every relative link in the README and the docs names a file of this repository."""
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith(("#", "mailto:")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            name = path.relative_to(ROOT).as_posix()
            assert path.exists() or name in PENDING, f"{page.name}: broken link {target}"


@pytest.mark.parametrize("snippet", PYTHON, ids=[f"{s.page}:{s.line}" for s in PYTHON])
def test_snippet_runs(snippet: Snippet, collector: Any, tmp_path: Path) -> None:
    """The snippet exits 0, reaches nothing but loopback, and every event it sent was stored."""
    code = snippet.code.replace(LOCAL_DEFAULT, collector.url)
    work = tmp_path / "work"
    work.mkdir()
    script = work / "snippet.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=str(work),
        env=_env(tmp_path, collector.ingest_url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SNIPPET_TIMEOUT,
    )
    where = f"{snippet.page}:{snippet.line}"
    assert result.returncode == 0, f"{where} exited {result.returncode}:\n{result.stderr}"
    refused = tmp_path / "refused.txt"
    assert not refused.exists(), f"{where} tried to reach {refused.read_text().split()}"
    statuses = [status for status, _, _ in collector.received]
    assert all(status == 200 for status in statuses), f"{where}: answers {statuses}"
    if snippet.events is not None:
        arrived = collector.wait_for(snippet.events, timeout=10) if snippet.events else []
        assert len(collector.accepted()) == snippet.events == len(arrived), (
            f"{where}: expected {snippet.events} events, got {collector.accepted()}"
        )
