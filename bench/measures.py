"""The orchestrator's side of each measure: which processes to run, what to keep.

Every figure comes from fresh interpreters started here, one per contender per
run, each in its contender's virtualenv, against a sink process of its own.
"""

import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence

from envs import BENCH, REPO, python_of
from sink import Sink, ceiling
from turns import Turns

SCENARIOS = BENCH / "scenarios.py"
#: The virtualenv each contender runs in (the rest use ours, for logging and structlog).
VENV_OF = {"v010": "v010", "sentry": "sentry", "stream+sentry": "sentry"}
#: Contenders that report somewhere and so need a sink.
REPORTING = {
    "ours",
    "v010",
    "sentry",
    "stream+ours",
    "stream+sentry",
    "structlog+ours",
    "structlog-tb+ours",
}
CALLER_CONTENDERS = (
    "floor",
    "stream",
    "stream+ours",
    "ours",
    "v010",
    "sentry",
    "structlog",
    "structlog+ours",
    "structlog-tb",
    "structlog-tb+ours",
)
SDKS = ("ours", "v010", "sentry")
#: The "every call captured" measure: the floor and ez-pixel, the console
#: handler alone and with each SDK.
CAPTURED_CONTENDERS = ("floor", "ours", "stream", "stream+ours", "stream+sentry")
#: Who takes turns with whom in the "captured" measure: each goal's two
#: contenders together, batch by batch (turns.py).
CAPTURED_TURNS = (("floor", "ours"), ("stream", "stream+ours"), ("stream+sentry",))


@dataclass(frozen=True)
class Config:
    """How long and how often each measure runs (``--quick`` shrinks everything)."""

    reps: int = 3
    caller_reps: int = 9
    caller_budget: float = 1.0
    captured_reps: int = 25
    captured_budget: float = 1.5
    captured_min_batches: int = 5
    fault_calls: int = 100_000
    fault_budget_others: float = 5.0
    throughput_calls: int = 2000
    throughput_budget: float = 6.0
    exit_reps: int = 3
    import_runs: int = 15
    init_runs: int = 7
    idle_window: float = 3.0
    profile_calls: int = 20_000


QUICK = Config(
    reps=1,
    caller_reps=1,
    caller_budget=0.4,
    captured_reps=1,
    captured_budget=0.6,
    captured_min_batches=3,
    fault_calls=20_000,
    fault_budget_others=2.0,
    throughput_calls=1000,
    throughput_budget=3.0,
    exit_reps=1,
    import_runs=5,
    init_runs=3,
    idle_window=1.0,
    profile_calls=5000,
)


def neutral_cwd() -> str:
    """An empty folder to run children in.

    ``python -c`` puts the working directory first on ``sys.path``: run from the
    repository, 0.1.0's venv would import this repository's ``ez_pixel``.
    """
    folder = BENCH / ".venvs" / "cwd"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def child_env() -> Dict[str, str]:
    """The environment of every child: no proxies, no SDK configuration from outside."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and not key.startswith(("PIXEL_", "SENTRY_"))
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # Every contender imports from bytecode caches: pip compiled 0.1.0's and
    # sentry-sdk's; this repository's are written by compile_repo() below.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_repo() -> None:
    """Write this repository's bytecode caches, as an install would."""
    subprocess.run(
        [str(python_of("ours")), "-m", "compileall", "-q", str(REPO / "ez_pixel")],
        check=True,
        env=child_env(),
        cwd=neutral_cwd(),
    )


class Outcome(NamedTuple):
    """One child process: its RESULT, wall time, and time from RESULT to exit."""

    result: Dict[str, Any]
    wall_s: float
    exit_s: Optional[float]


def run_process(command: Sequence[str], timeout: float = 180.0) -> Outcome:
    """Run ``command``, read its ``RESULT`` line, and time its exit from outside."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.monotonic()
        process = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=child_env(),
            cwd=neutral_cwd(),
        )
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        result: Optional[Dict[str, Any]] = None
        marked: Optional[float] = None
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("RESULT "):
                    marked = time.monotonic()
                    result = json.loads(line[len("RESULT ") :])
            process.wait()
        finally:
            watchdog.cancel()
        ended = time.monotonic()
        errors.seek(0)
        stderr = errors.read()
    if result is None:
        result = {"error": f"exit status {process.returncode}: {stderr[-600:].strip()}"}
    elif stderr.strip():
        result["stderr"] = stderr[-300:].strip()
    return Outcome(result, ended - started, None if marked is None else ended - marked)


def scenario(
    measure: str, contender: str, url: str, *options: str, timeout: float = 180
) -> Outcome:
    """Run one measure of ``scenarios.py`` for ``contender`` in its virtualenv."""
    python = python_of(VENV_OF.get(contender, "ours"))
    command = [str(python), str(SCENARIOS), measure, contender, "--url", url, *options]
    return run_process(command, timeout)


def _median(values: Sequence[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _sink_mode(contender: str, mode: str = "healthy") -> str:
    return mode if contender in REPORTING else "refused"


# -- measures -----------------------------------------------------------------------


def caller(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """µs per ``logger.exception`` with a healthy sink, every contender, fresh runs interleaved."""
    runs: Dict[str, List[Dict[str, Any]]] = {name: [] for name in CALLER_CONTENDERS}
    for rep in range(config.caller_reps):
        for name in CALLER_CONTENDERS:
            if runs[name] and "skipped" in runs[name][0]:
                continue
            with Sink(_sink_mode(name)) as sink:
                options = ["--calls", "10000000", "--budget", str(config.caller_budget)]
                outcome = scenario("caller", name, sink.base_url, *options)
                outcome.result["sink"] = sink.stats()
            runs[name].append(outcome.result)
            say(f"caller {name} run {rep + 1}: {_brief(outcome.result, 'us')}")
    keys = ("us", "in_call_us", "cpu_us")
    return {name: _summarise(entries, keys) for name, entries in runs.items()}


def _captured_turns(
    names: Sequence[str], config: Config, rep: int, say: Callable[[str], None]
) -> Dict[str, Dict[str, Any]]:
    """One run of ``names`` taking turns batch by batch (see turns.py), each with its sink."""
    with ExitStack() as stack:
        sinks = {name: stack.enter_context(Sink(_sink_mode(name))) for name in names}
        commands = {
            name: [
                str(python_of(VENV_OF.get(name, "ours"))),
                str(SCENARIOS),
                "captured",
                name,
                "--url",
                sinks[name].base_url,
                "--turns",
            ]
            for name in names
        }
        turns = Turns(commands, env=child_env(), cwd=neutral_cwd())
        results = turns.run(config.captured_budget, config.captured_min_batches)
        for name, result in results.items():
            result["sink"] = sinks[name].stats()
    for name, result in results.items():
        if "error" not in result and name in REPORTING:
            result["delivered"] = result["sink"]["events"]
            result["sent"] = result["calls"] + result["warmup"]
        say(f"captured {name} run {rep + 1}: {_brief(result, 'in_call_us')} µs in the call")
    return results


def captured(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """µs per ``logger.exception`` when every call is captured, compared batch by batch.

    Batches of one error from each of 50 call sites, a flush between batches
    (untimed); see ``scenarios.measure_captured``. Each goal's two contenders
    run at the same time in fresh processes that take turns, one batch each
    (:data:`CAPTURED_TURNS`, turns.py); sentry-sdk, whose batches take
    seconds, runs alone. The sink counts what arrived.
    """
    runs: Dict[str, List[Dict[str, Any]]] = {name: [] for name in CAPTURED_CONTENDERS}
    for rep in range(config.captured_reps):
        for group in CAPTURED_TURNS:
            for name, result in _captured_turns(group, config, rep, say).items():
                runs[name].append(result)
    found = {
        name: _summarise(entries, ("us", "in_call_us", "first_call_us", "steady_us", "cpu_us"))
        for name, entries in runs.items()
    }
    for name, summary in found.items():
        good = [run for run in runs[name] if "delivered" in run]
        if good and "runs" in summary:
            summary["delivered"] = sum(run["delivered"] for run in good)
            summary["sent"] = sum(run["sent"] for run in good)
    return found


def memory(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Bytes held per queued event: a full default queue of distinct 30-frame errors."""
    runs = []
    for _ in range(max(1, config.reps)):
        with Sink("blackhole") as sink:
            outcome = scenario("memory", "ours", sink.base_url, "--depth", "30", timeout=300)
        runs.append(outcome.result)
        say(f"memory: {_brief(outcome.result, 'bytes_per_event')} bytes per queued event")
    return _summarise(runs, ("bytes_per_event", "full_queue_mb", "rss_growth_mb"))


def faults(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Caller cost, peak memory and exit time while the server never answers or refuses.

    ez-pixel runs ``fault_calls`` errors ``reps`` times (medians kept), each
    repeat interleaving the two baselines the goals compare with (the no-handler
    floor and ez-pixel with a healthy sink, same call count) and the two faults,
    so that all four see the same machine. The others run once per fault, for
    at most ``fault_budget_others`` seconds.
    """
    options = ["--calls", str(config.fault_calls), "--min-batches", "3", "--batch-max", "1000"]
    modes = ("floor", "healthy", "blackhole", "refused")
    runs: Dict[str, Dict[str, List[Dict[str, Any]]]] = {mode: {} for mode in modes}

    def run(mode: str, name: str, budget: float) -> None:
        with Sink("healthy" if mode == "floor" else mode) as sink:
            outcome = scenario(
                "caller", name, sink.base_url, *options, "--budget", str(budget), timeout=900
            )
            outcome.result["sink"] = sink.stats()
        outcome.result["exit_s"] = outcome.exit_s
        runs[mode].setdefault(name, []).append(outcome.result)
        say(
            f"{mode} {name}: {_brief(outcome.result, 'us')} µs, "
            f"{outcome.result.get('calls')} calls, exit {_fmt(outcome.exit_s)} s"
        )

    for _ in range(config.reps):
        for mode in modes:
            run(mode, "floor" if mode == "floor" else "ours", 600.0)
    for mode in ("blackhole", "refused"):
        for name in SDKS:
            if name != "ours":
                run(mode, name, config.fault_budget_others)
    found: Dict[str, Any] = {}
    for mode, by_name in runs.items():
        found[mode] = {}
        for name, results in by_name.items():
            summary = _summarise(results, ("us", "cpu_us", "peak_growth_mb", "exit_s"))
            if "runs" in summary:
                summary["calls"] = results[0].get("calls")
            found[mode][name] = summary
    return found


def throughput(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Events/s delivered in batches of 50 plus a flush; every event counted at the sink."""
    options = ["--calls", str(config.throughput_calls), "--batch", "50"]
    options += ["--budget", str(config.throughput_budget)]
    found: Dict[str, Any] = {}
    for name in SDKS:
        runs = []
        for _ in range(config.reps if name != "sentry" else 1):
            with Sink("healthy") as sink:
                outcome = scenario("throughput", name, sink.base_url, *options)
                stats = sink.stats()
            result = outcome.result
            if "error" in result:
                runs.append(result)
                continue
            result["delivered"] = stats["events"] - result.get("warmup", 0)
            result["connections"] = stats["used"]
            result["accepted"] = stats["accepted"]
            result["events_per_s"] = result["delivered"] / result["seconds"]
            runs.append(result)
            say(f"throughput {name}: {result['events_per_s']:.0f}/s, {stats}")
        found[name] = _summarise_throughput(runs)
    with Sink("healthy") as sink:
        found["ceiling"] = {"requests_per_s": ceiling(sink.port)}
    say(f"sink ceiling: {found['ceiling']['requests_per_s']:.0f} requests/s on one connection")
    with Sink("collector", python=str(python_of("ours"))) as sink:
        outcome = scenario("throughput", "ours", sink.base_url, *options)
    result = outcome.result
    if "error" not in result:
        result["delivered"] = (result["sdk"].get("sent") or 0) - result.get("warmup", 0)
        result["events_per_s"] = (result["delivered"] or 0) / result["seconds"]
        say(f"throughput ours -> collector: {result['events_per_s']:.0f}/s")
    found["collector"] = result
    return found


def exit_time(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Seconds from start to exit with one error and a server that never answers, over baseline."""
    found: Dict[str, Any] = {}
    for name in SDKS:
        real: List[float] = []
        base: List[float] = []
        with Sink("blackhole") as sink:
            for _ in range(config.exit_reps):
                base.append(scenario("exit", name, sink.base_url, "--baseline").wall_s)
                outcome = scenario("exit", name, sink.base_url)
                if "error" in outcome.result:
                    found[name] = outcome.result
                    break
                real.append(outcome.wall_s)
        if real:
            seconds = statistics.median(real) - statistics.median(base)
            found[name] = {"s": seconds, "runs": real, "baseline_runs": base}
            say(f"exit {name}: {seconds:.2f} s over baseline")
    return found


IMPORTS = (
    ("floor", "ours", "import logging"),
    ("ours", "ours", "import ez_pixel"),
    # ez_pixel loads its public names on first use: this is the import an app
    # that calls init_pixel pays (0.1.0 and sentry-sdk load theirs at import).
    ("ours+api", "ours", "import ez_pixel; ez_pixel.init_pixel"),
    ("v010", "v010", "import ez_pixel"),
    ("sentry", "sentry", "import sentry_sdk"),
)


def _wall(python: Path, code: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(python), "-c", code], check=True, env=child_env(), cwd=neutral_cwd())
    return time.perf_counter() - started


def imports(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Wall ms of ``python -c "import X"`` over ``python -c pass``, fresh interpreters."""
    venvs = sorted({venv for _, venv, _ in IMPORTS})
    for _, venv, code in IMPORTS:  # compile the bytecode caches first
        _wall(python_of(venv), code)
    passes: Dict[str, List[float]] = {venv: [] for venv in venvs}
    totals: Dict[str, List[float]] = {name: [] for name, _, _ in IMPORTS}
    for _ in range(config.import_runs):
        for venv in venvs:
            passes[venv].append(_wall(python_of(venv), "pass"))
        for name, venv, code in IMPORTS:
            totals[name].append(_wall(python_of(venv), code))
    found: Dict[str, Any] = {}
    for name, venv, code in IMPORTS:
        total = statistics.median(totals[name]) * 1000
        floor = statistics.median(passes[venv]) * 1000
        found[name] = {"code": code, "total_ms": total, "pass_ms": floor, "delta_ms": total - floor}
        say(f"import {name}: {total - floor:.1f} ms over pass ({total:.1f} total)")
    found["ours"]["importtime"] = importtime(python_of("ours"), "import ez_pixel")
    return found


_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def importtime(python: Path, code: str, top: int = 12) -> List[Dict[str, Any]]:
    """The modules with the most own import time under ``-X importtime`` (median of 5)."""
    samples: Dict[str, List[int]] = {}
    cumulative: Dict[str, List[int]] = {}
    for _ in range(5):
        answer = subprocess.run(
            [str(python), "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=child_env(),
            cwd=neutral_cwd(),
        )
        for match in _IMPORTTIME.finditer(answer.stderr):
            samples.setdefault(match.group(4), []).append(int(match.group(1)))
            cumulative.setdefault(match.group(4), []).append(int(match.group(2)))
    rows = [
        {
            "module": module,
            "self_ms": statistics.median(values) / 1000,
            "cumulative_ms": statistics.median(cumulative[module]) / 1000,
        }
        for module, values in samples.items()
    ]
    rows.sort(key=lambda row: -row["self_ms"])
    return rows[:top]


def init(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """Milliseconds of the init call (imports already done), median of fresh interpreters."""
    found: Dict[str, Any] = {}
    with Sink("refused") as sink:
        for name in SDKS:
            values = [
                scenario("init", name, sink.base_url).result.get("ms")
                for _ in range(config.init_runs)
            ]
            numbers = [value for value in values if isinstance(value, (int, float))]
            found[name] = {"ms": _median(numbers), "runs": numbers}
            say(f"init {name}: {_fmt(found[name]['ms'])} ms")
    return found


IDLE = (
    ("none", "none", False),
    ("ours", "ours", False),
    ("ours-after-error", "ours", True),
    ("v010", "v010", False),
    ("sentry", "sentry", False),
)


def idle(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """CPU ms and other threads' wakeups over an idle window, SDK initialised."""
    found: Dict[str, Any] = {}
    for key, name, after_error in IDLE:
        options = ["--window", str(config.idle_window)]
        if after_error:
            options.append("--after-error")
        with Sink("healthy") as sink:
            python = python_of(VENV_OF.get(name, "ours"))
            command = [str(python), str(SCENARIOS), "idle", name, "--url", sink.base_url]
            outcome = run_process([*command, *options])
        found[key] = outcome.result
        say(f"idle {key}: {outcome.result}")
    return found


def profile(config: Config, say: Callable[[str], None]) -> Dict[str, Any]:
    """cProfile and pyinstrument of ``logger.exception`` with ez-pixel; see profile.txt."""
    with Sink("healthy") as sink:
        command = [str(python_of("ours")), str(BENCH / "profile_hot.py")]
        command += ["--url", sink.base_url, "--calls", str(config.profile_calls)]
        outcome = run_process(command, timeout=300)
    say(f"profile: written to {(BENCH / 'profile.txt').relative_to(REPO)}")
    return outcome.result


# -- helpers --------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else str(value)


def _brief(result: Dict[str, Any], key: str) -> str:
    for problem in ("skipped", "error"):
        if problem in result:
            return f"{problem}: {result[problem]}"
    return _fmt(result.get(key))


def _summarise(entries: List[Dict[str, Any]], keys: Sequence[str]) -> Dict[str, Any]:
    """Medians over runs of ``keys``; the first skip or error stands for all."""
    for entry in entries:
        if "skipped" in entry or "error" in entry:
            return entry
    summary: Dict[str, Any] = {key: _median([entry[key] for entry in entries]) for key in keys}
    summary["runs"] = entries
    return summary


def _summarise_throughput(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    good = [run for run in runs if "error" not in run]
    if not good:
        return runs[0]
    rate = statistics.median(run["events_per_s"] for run in good)
    connections = max(run["connections"] for run in good)
    cpu = [run["cpu_us_per_event"] for run in good if run.get("cpu_us_per_event") is not None]
    return {
        "events_per_s": rate,
        "cpu_us_per_event": _median(cpu),
        "delivered": sum(run["delivered"] for run in good),
        "sent": sum(run["sent"] for run in good),
        "connections": connections,
        "events_per_s_per_connection": rate / connections if connections else None,
        "runs": runs,
    }


MEASURES: Dict[str, Callable[[Config, Callable[[str], None]], Dict[str, Any]]] = {
    "caller": caller,
    "captured": captured,
    "memory": memory,
    "faults": faults,
    "throughput": throughput,
    "exit": exit_time,
    "import": imports,
    "init": init,
    "idle": idle,
    "profile": profile,
}
