"""Fixtures for the framework tests: the examples, run for real against the collector.

Each test module skips itself when its framework is not installed (``pip install
-e ".[test]"``). A skip hides a missing feature, so an environment meant
to run them all sets ``EZ_PIXEL_REQUIRE_FRAMEWORKS=1``: a module that would be
skipped for a missing framework then fails instead.
"""

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

import ez_pixel
from helpers import KEY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUIRED = os.environ.get("EZ_PIXEL_REQUIRE_FRAMEWORKS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Iterator[None]:
    """With ``EZ_PIXEL_REQUIRE_FRAMEWORKS=1``, a module skipped at import fails."""
    outcome: Any = yield
    report = outcome.get_result()
    if REQUIRED and report.skipped:
        report.outcome = "failed"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    """With ``EZ_PIXEL_REQUIRE_FRAMEWORKS=1``, a test's own ``importorskip`` fails too."""
    outcome: Any = yield
    report = outcome.get_result()
    if REQUIRED and report.skipped and "could not import" in str(report.longrepr):
        report.outcome = "failed"


def app_env(ingest_url: str, **extra: str) -> Dict[str, str]:
    """This environment without ``PIXEL_*``, plus the collector's key and URL and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXEL_")}
    env.update(PIXEL_PROJECT_KEY=KEY, PIXEL_INGEST_URL=ingest_url, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def http(
    method: str, url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 10
) -> Tuple[int, bytes]:
    """One request without any proxy; the status and body, also for 4xx and 5xx."""
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


class App:
    """A server or worker process whose output goes to files (a full pipe would stall it)."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: Dict[str, str], logs: Path) -> None:
        self.argv = list(argv)
        self._out = open(logs.with_suffix(".out"), "w+")  # noqa: SIM115 (closed in stop)
        self._err = open(logs.with_suffix(".err"), "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.argv, cwd=str(cwd), env=env, stdout=self._out, stderr=self._err
        )
        self.returncode: Optional[int] = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def output(self) -> str:
        """What it wrote to stdout and stderr so far."""
        for stream in (self._out, self._err):
            if not stream.closed:
                stream.flush()
        return Path(self._out.name).read_text() + Path(self._err.name).read_text()

    def wait_until_up(self, url: str, timeout: float = 30) -> None:
        """Poll ``url`` until it answers at all; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.argv} exited with {self.process.returncode}:\n{self.output()}")
            try:
                http("GET", url, timeout=2)
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"{self.argv} did not answer {url} within {timeout}s:\n{self.output()}")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (a graceful shutdown), then wait; SIGKILL if it hangs. The exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                pytest.fail(f"{self.argv} did not stop within {timeout}s:\n{self.output()}")
        self.close()
        self.returncode = self.process.returncode
        return self.returncode

    def close(self) -> None:
        """Close the output files (idempotent)."""
        self._out.close()
        self._err.close()


class Toolkit:
    """What the framework tests share, as the ``fw`` fixture."""

    examples = EXAMPLES
    python = sys.executable

    def __init__(self, collector: Any, tmp_path: Path, monkeypatch: Any) -> None:
        self._collector = collector
        self._tmp_path = tmp_path
        self._monkeypatch = monkeypatch
        self._apps: List[App] = []
        self._loaded = False

    def env(self, **extra: str) -> Dict[str, str]:
        """The environment for an app reporting to the collector."""
        return app_env(self._collector.ingest_url, **extra)

    http = staticmethod(http)

    def start(self, argv: Sequence[str], cwd: Path, env: Dict[str, str]) -> App:
        """Start a server or worker; killed after the test if still running."""
        app = App(argv, cwd, env, self._tmp_path / f"app{len(self._apps)}")
        self._apps.append(app)
        return app

    def run(
        self, argv: Sequence[str], cwd: Path, env: Dict[str, str], timeout: float = 60
    ) -> "subprocess.CompletedProcess[str]":
        """Run a process to its end; its output as text."""
        return subprocess.run(
            list(argv), cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout
        )

    def load_example(self, name: str) -> ModuleType:
        """Import ``examples/<name>.py`` afresh, in this process.

        Its ``init_pixel()`` reads the collector from ``PIXEL_*``, set only while
        it loads; ``close_pixel`` runs after the test.
        """
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        self._loaded = True
        with self._monkeypatch.context() as env:
            env.setenv("PIXEL_PROJECT_KEY", KEY)
            env.setenv("PIXEL_INGEST_URL", self._collector.ingest_url)
            spec.loader.exec_module(module)
        return module

    def cleanup(self) -> None:
        for app in self._apps:
            if app.process.poll() is None:
                app.process.kill()
                app.process.wait(5)
            app.close()
        if self._loaded:
            ez_pixel.close_pixel(timeout=2)


@pytest.fixture
def fw(collector: Any, tmp_path: Path, monkeypatch: Any) -> Iterator[Toolkit]:
    """The toolkit; processes it started are killed and ``init_pixel`` undone after."""
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    toolkit = Toolkit(collector, tmp_path, monkeypatch)
    try:
        yield toolkit
    finally:
        toolkit.cleanup()
        for handler in list(root.handlers):
            if handler not in handlers_before:
                root.removeHandler(handler)
