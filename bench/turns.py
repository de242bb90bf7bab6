"""Contender processes that take turns, batch by batch.

This machine's speed drifts by a third within seconds (the same process, in
consecutive 1.5 s windows, logs through a StreamHandler at anywhere from
about 210 to 400 µs a call; bench/README.md). A contender run after another
sees another machine. So the processes being compared are started together,
each set up and warmed in its own fresh interpreter, and the orchestrator
hands the turn round: one batch of one, then one of the next, and so on.
Whatever the machine does, it does to all of them alike. A process waiting
for its turn is blocked on a pipe and uses no CPU.

The scenario side is ``scenarios.py captured ... --turns``: it says ``READY``,
runs one batch (with its flush and idle pause) per ``go`` line and answers
``DONE``, and prints its ``RESULT`` line after ``stop``.
"""

import json
import subprocess
import tempfile
import threading
import time
from typing import IO, Any, Dict, Optional, Sequence


class Turns:
    """Runs ``commands`` (by name) in turn until a budget is spent; see the module doc."""

    def __init__(self, commands: Dict[str, Sequence[str]], env: Dict[str, str], cwd: str) -> None:
        self._names = list(commands)
        self._errors: Dict[str, IO[str]] = {}
        self._processes: Dict[str, subprocess.Popen[str]] = {}
        self._failed: Dict[str, str] = {}
        for name, command in commands.items():
            errors = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by run())
            self._errors[name] = errors
            self._processes[name] = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
                cwd=cwd,
            )

    def run(self, budget: float, min_rounds: int, timeout: float = 300.0) -> Dict[str, Any]:
        """Hand out turns for ``budget`` seconds (``min_rounds`` at least); each one's RESULT.

        Every process is killed after ``timeout`` seconds, whatever happens; a
        process that fails is reported as an error and the others go on.
        """
        watchdog = threading.Timer(timeout, self._kill_all)
        watchdog.start()
        try:
            for name in self._names:
                self._expect(name, "READY")
            rounds = 0
            started = time.monotonic()
            while rounds < min_rounds or time.monotonic() - started < budget:
                alive = [name for name in self._names if name not in self._failed]
                if not alive:
                    break
                for name in alive:
                    self._send(name, "go")
                    self._expect(name, "DONE")
                rounds += 1
            return {name: self._finish(name) for name in self._names}
        finally:
            watchdog.cancel()
            self._kill_all()
            for errors in self._errors.values():
                errors.close()

    def _send(self, name: str, word: str) -> None:
        if name in self._failed:
            return
        stdin = self._processes[name].stdin
        assert stdin is not None
        try:
            stdin.write(word + "\n")
            stdin.flush()
        except OSError as exc:
            self._failed[name] = f"could not send {word!r}: {exc}"

    def _expect(self, name: str, word: str) -> Optional[str]:
        """Read ``name``'s output up to a line ``word`` (or RESULT); None once it failed."""
        if name in self._failed:
            return None
        stdout = self._processes[name].stdout
        assert stdout is not None
        for line in stdout:
            if line.strip() == word or (word == "RESULT" and line.startswith("RESULT ")):
                return line
        self._failed[name] = f"ended before {word}: {self._stderr(name)}"
        return None

    def _finish(self, name: str) -> Dict[str, Any]:
        self._send(name, "stop")
        line = self._expect(name, "RESULT")
        process = self._processes[name]
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if line is None:
            return {"error": self._failed.get(name, "no RESULT line")}
        result: Dict[str, Any] = json.loads(line[len("RESULT ") :])
        stderr = self._stderr(name)
        if stderr:
            result["stderr"] = stderr[-300:]
        return result

    def _stderr(self, name: str) -> str:
        errors = self._errors[name]
        errors.seek(0)
        return errors.read().strip()[-600:]

    def _kill_all(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()
