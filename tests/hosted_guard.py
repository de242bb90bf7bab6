"""No test, in this process or in one it starts, ever reaches the hosted default server.

``init_pixel()`` without a URL sends to :data:`ez_pixel.DEFAULT_INGEST_URL`, the
ecosystem's hosted server. Tests must keep every event on loopback, so name
resolution of that host is refused here and in every Python child process
(a ``sitecustomize`` on ``PYTHONPATH``), and the test that tried fails loudly.
A safety net, not a stand-in for delivery: tests deliver to real local servers.
"""

import os
import socket
import tempfile
import textwrap
from pathlib import Path
from typing import Any, List
from urllib.parse import urlsplit

from ez_pixel import DEFAULT_INGEST_URL

HOSTED = str(urlsplit(DEFAULT_INGEST_URL).hostname)
#: Where child processes write the hosts they were refused.
LOG_VARIABLE = "EZ_PIXEL_TEST_HOSTED_LOG"

_attempts: List[str] = []
_real_getaddrinfo = socket.getaddrinfo

CHILD_GUARD = textwrap.dedent(
    f'''
    """tests/hosted_guard.py: refuse and record any lookup of the hosted default server."""
    import os
    import socket

    _real = socket.getaddrinfo


    def _guarded(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.rstrip(".").lower() == {HOSTED!r}:
            with open(os.environ[{LOG_VARIABLE!r}], "a") as log:
                log.write(name + "\\n")
            raise OSError("tests must never reach the hosted default server")
        return _real(host, *args, **kwargs)


    socket.getaddrinfo = _guarded
    '''
)


def _guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.rstrip(".").lower() == HOSTED:
        _attempts.append(name)
        raise OSError("tests must never reach the hosted default server")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> Path:
    """Guard this process and (through ``PYTHONPATH``) its children; returns the log file."""
    socket.getaddrinfo = _guarded
    directory = Path(tempfile.mkdtemp(prefix="ez-pixel-hosted-guard-"))
    (directory / "sitecustomize.py").write_text(CHILD_GUARD)
    log = directory / "refused.log"
    log.touch()
    os.environ[LOG_VARIABLE] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(directory), os.environ.get("PYTHONPATH")])
    )
    return log


def attempts(log: Path) -> int:
    """How many lookups of the hosted server were refused so far, here and in children."""
    return len(_attempts) + len(log.read_text().splitlines())
