"""The code each measurement runs, inside one contender's virtualenv.

``python bench/scenarios.py MEASURE CONTENDER [--url URL] [options]`` sets the
contender up in this fresh interpreter, runs the measure and prints one line
``RESULT {json}`` (flushed) as soon as the last timed call is done, then
returns so the interpreter exits normally: exit hooks (flushes) run after
that line, which is what lets the orchestrator time the exit from outside.

Stdlib only, plus the contender's own SDK (and structlog for its variants).

Contenders: ``floor`` (logging with no handler and ``lastResort`` off),
``stream`` (a ``StreamHandler`` to /dev/null), ``stream+ours`` (both
handlers, as most applications would have them), ``stream+sentry`` (the same
with sentry-sdk), ``ours`` (this repo's
ez-pixel), ``v010`` (ez-pixel 0.1.0 through a tiny handler calling
``report_pixel``), ``sentry`` (sentry-sdk with defaults), and the structlog
pipelines ``structlog``/``structlog+ours`` (minimal) and
``structlog-tb``/``structlog-tb+ours`` (with ``format_exc_info``).
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional

KEY = "pk_test_bench"
#: Frames of the recursing function between the catching frame and the raise.
DEPTH = 8
MESSAGE = "order %s failed"


class Skip(Exception):
    """The measure cannot run for this contender (reported, not an error)."""


def recurse(level: int) -> None:
    """Recurse ``level`` frames deep, then raise."""
    if level <= 1:
        raise ValueError("card declined at the bottom of the stack")
    recurse(level - 1)


#: Distinct call sites in a batch of the "captured" measure: one error each.
SITES = 50
#: Seconds every contender idles after each batch of the "captured" measure
#: (after its flush, if it has one). A flush that waits for delivery leaves
#: the app's core idle, and on this machine a batch that starts on a core
#: that was idle runs up to half as fast again as one started right after
#: busy work: without the same pause for all, the contenders without a
#: flush (no handler, StreamHandler alone) would run every batch on a hot
#: core and the SDKs on a cold one (bench/README.md, "every call captured").
IDLE_BETWEEN_BATCHES = 0.02


def make_sites(count: int = SITES, *, name: str = "bench_sites") -> List[Callable[[int], None]]:
    """``count`` functions, each recursing like :func:`recurse` and raising at its own line.

    Each raises from its own code object, so every error of a batch is a
    different error (a different flood key, a different group) and is captured
    in full. They live in a real file so that every SDK can read their source.
    """
    lines: List[str] = []
    for i in range(count):
        lines += [
            f"def site_{i}(level):",
            "    if level <= 1:",
            f"        raise ValueError('card declined at site {i}')",
            f"    site_{i}(level - 1)",
            "",
        ]
    source = "\n".join(lines)
    path = os.path.join(tempfile.gettempdir(), f"{name}_{os.getpid()}.py")
    with open(path, "w") as out:
        out.write(source)
    namespace: Dict[str, Any] = {"__name__": name}
    exec(compile(source, path, "exec"), namespace)
    return [namespace[f"site_{i}"] for i in range(count)]


class Setup:
    """A contender made ready: ``log()`` is called inside an ``except`` block."""

    def __init__(
        self,
        log: Callable[[], None],
        flush: Callable[[float], Any] = lambda timeout: None,
        stats: Callable[[], Dict[str, Any]] = dict,
    ) -> None:
        self.log = log
        self.flush = flush
        self.stats = stats


def _logger() -> logging.Logger:
    logging.lastResort = None  # type: ignore[assignment]  # the floor prints nothing
    logging.Logger.manager.emittedNoHandlerWarning = True  # nor its one-time warning
    return logging.getLogger("app.orders")


def _devnull() -> Any:
    return open(os.devnull, "w")


def _structlog(url: str, with_pixel: bool, tracebacks: bool) -> Setup:
    import structlog

    processors: List[Any] = [structlog.processors.add_log_level]
    ours: Optional[Setup] = None
    if with_pixel:
        try:
            from ez_pixel.structlog import PixelProcessor  # type: ignore[import-not-found]
        except ImportError as exc:
            raise Skip(f"ez_pixel.structlog is not importable yet ({exc})") from None
        ours = _init_ours(url)
        processors.append(PixelProcessor())  # before format_exc_info, which drops exc_info
    if tracebacks:
        processors.append(structlog.processors.format_exc_info)
    processors.append(structlog.processors.JSONRenderer())
    structlog.configure(
        processors=processors,
        logger_factory=structlog.PrintLoggerFactory(file=_devnull()),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("app.orders")
    if ours is None:
        return Setup(lambda: log.exception("order failed", order=42))
    return Setup(lambda: log.exception("order failed", order=42), ours.flush, ours.stats)


def _init_ours(url: str) -> Setup:
    import ez_pixel

    ez_pixel.init_pixel(KEY, url + "/ingest")
    logger = _logger()
    return Setup(
        lambda: logger.exception(MESSAGE, 42),
        lambda timeout: ez_pixel.flush_pixel(timeout),
        ez_pixel.stats,
    )


def _init_v010(url: str) -> Setup:
    import ez_pixel

    ez_pixel.init_pixel(KEY, url + "/ingest")

    class ReportPixelHandler(logging.Handler):
        """What a 0.1.0 user writes to get logged errors reported: it has no handler."""

        def emit(self, record: logging.LogRecord) -> None:
            exc = record.exc_info[1] if record.exc_info else None
            ez_pixel.report_pixel(record.getMessage(), error=exc)

    logging.getLogger().addHandler(ReportPixelHandler(logging.ERROR))
    logger = _logger()
    return Setup(lambda: logger.exception(MESSAGE, 42), lambda timeout: ez_pixel.flush_pixel())


def _init_sentry(url: str) -> Setup:
    import sentry_sdk

    port = url.rsplit(":", 1)[1]
    sentry_sdk.init(dsn=f"http://public@127.0.0.1:{port}/1")
    logger = _logger()
    return Setup(lambda: logger.exception(MESSAGE, 42), lambda timeout: sentry_sdk.flush(timeout))


def _init_stream() -> Setup:
    handler = logging.StreamHandler(_devnull())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logger = _logger()
    return Setup(lambda: logger.exception(MESSAGE, 42))


def setup(contender: str, url: str) -> Setup:
    """Initialise ``contender`` reporting to the sink at ``url`` (``http://host:port``)."""
    if contender == "floor":
        logger = _logger()
        return Setup(lambda: logger.exception(MESSAGE, 42))
    if contender == "stream":
        return _init_stream()
    if contender == "stream+ours":
        _init_stream()
        return _init_ours(url)
    if contender == "stream+sentry":
        _init_stream()
        return _init_sentry(url)
    if contender == "ours":
        return _init_ours(url)
    if contender == "v010":
        return _init_v010(url)
    if contender == "sentry":
        return _init_sentry(url)
    if contender.startswith("structlog"):
        return _structlog(url, contender.endswith("+ours"), contender.startswith("structlog-tb"))
    raise SystemExit(f"unknown contender {contender!r}")


def import_only(contender: str) -> None:
    """Import what ``setup`` would, without initialising anything.

    The init function is looked up too: this repository's ``ez_pixel`` loads
    its public names on first use, which is import time, not init time.
    """
    if contender in ("ours", "v010"):
        import ez_pixel

        ez_pixel.init_pixel  # noqa: B018
    elif contender == "sentry":
        import sentry_sdk

        sentry_sdk.init  # noqa: B018


# -- memory and CPU ------------------------------------------------------------


def _status_kb(field: str) -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _thread_switches() -> Dict[str, int]:
    """Context switches of each thread but the main one, by thread id."""
    found: Dict[str, int] = {}
    main = str(os.getpid())
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in tids:
        if tid == main:
            continue
        try:
            with open(f"/proc/self/task/{tid}/status") as status:
                total = sum(int(line.split()[1]) for line in status if "ctxt_switches:" in line)
        except (OSError, ValueError):
            continue
        found[tid] = total
    return found


def _cpu_seconds() -> float:
    return time.process_time()  # all threads, nanosecond clock (os.times() ticks at 10 ms)


# -- measures -------------------------------------------------------------------


def _timed_batch(action: Callable[[], None], count: int) -> List[float]:
    """Run ``count`` raise-catch-act iterations: [wall seconds, seconds inside action]."""
    clock = time.perf_counter
    inside = 0.0
    start = clock()
    for _ in range(count):
        try:
            recurse(DEPTH)
        except ValueError:
            before = clock()
            action()
            inside += clock() - before
    return [clock() - start, inside]


def _noop() -> None:
    pass


def measure_caller(args: argparse.Namespace) -> Dict[str, Any]:
    """µs per logged error: median of timed batches, minus the raise-and-catch cost."""
    raise_cost = statistics.median(_timed_batch(_noop, 2000)[0] / 2000 for _ in range(5))
    ready = setup(args.contender, args.url)
    warm_until = time.perf_counter() + 0.15
    while time.perf_counter() < warm_until:
        _timed_batch(ready.log, 10)
    calibrate = _timed_batch(ready.log, 20)[0] / 20
    batch = max(1, min(args.batch_max, int(args.batch_seconds / max(calibrate, 1e-7))))
    rss_start = _status_kb("VmRSS")
    peak_reset = _reset_peak_rss()
    walls: List[float] = []
    insides: List[float] = []
    done = 0
    cpu = _cpu_seconds()
    started = time.perf_counter()
    deadline = started + args.budget
    while done < args.calls and (len(walls) < args.min_batches or time.perf_counter() < deadline):
        count = min(batch, args.calls - done)
        wall, inside = _timed_batch(ready.log, count)
        walls.append(wall / count)
        insides.append(inside / count)
        done += count
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    peak = _status_kb("VmHWM")
    rss_end = _status_kb("VmRSS")
    return {
        "us": (statistics.median(walls) - raise_cost) * 1e6,
        "in_call_us": statistics.median(insides) * 1e6,
        "mean_us": (elapsed / done - raise_cost) * 1e6,
        "cpu_us": (cpu / done - raise_cost) * 1e6,
        "raise_us": raise_cost * 1e6,
        "calls": done,
        "batches": len(walls),
        "batch": batch,
        "seconds": elapsed,
        "peak_growth_mb": (peak - rss_start) / 1024 if peak_reset else None,
        "rss_growth_mb": (rss_end - rss_start) / 1024,
        "threads": threading.active_count(),
        "sdk": ready.stats(),
    }


def _site_batch(
    sites: List[Callable[[int], None]],
    action: Callable[[], None],
    calls: Optional[List[float]] = None,
) -> List[float]:
    """One raise-catch-act per site: [wall seconds, seconds inside action].

    With ``calls``, each action's seconds are appended to it, in order.
    """
    clock = time.perf_counter
    inside = 0.0
    start = clock()
    for site in sites:
        try:
            site(DEPTH)
        except ValueError:
            before = clock()
            action()
            took = clock() - before
            inside += took
            if calls is not None:
                calls.append(took)
    return [clock() - start, inside]


#: Calls at the start of a captured batch left out of its "steady" figure.
WARMING_CALLS = 10


def _say(word: str) -> None:
    sys.stdout.write(word + "\n")
    sys.stdout.flush()


def _my_turn() -> bool:
    """With ``--turns``: wait for the orchestrator's ``go`` (True) or ``stop`` (False)."""
    return sys.stdin.readline().strip() == "go"


def measure_captured(args: argparse.Namespace) -> Dict[str, Any]:
    """µs per logged error when every call is captured: batches of distinct errors.

    A batch logs one error from each of ``SITES`` call sites (so no flood
    control and no dedup applies), timed as a whole (raise, catch, log), then
    the SDK flushes, untimed. The batch's wall time includes whatever GIL time
    a background thread takes from the app during the burst; the raise-and-
    catch cost, measured first with a no-op, is subtracted. Each batch's
    first call (the first after the idle pause, on cold caches) and the median
    of its calls after the first :data:`WARMING_CALLS` are reported apart.

    With ``--turns`` the process says ``READY`` once set up, then runs one
    batch (with its flush and idle pause) each time a ``go`` line arrives on
    stdin, answering ``DONE``, until a ``stop`` line: the orchestrator
    interleaves the contenders batch by batch (see ``turns.py``).
    """
    sites = make_sites()
    raise_cost = statistics.median(_site_batch(sites, _noop)[0] / len(sites) for _ in range(20))
    ready = setup(args.contender, args.url)
    _site_batch(sites, ready.log)  # untimed: first-use imports, the connection
    ready.flush(30.0)
    time.sleep(IDLE_BETWEEN_BATCHES)
    walls: List[float] = []
    insides: List[float] = []
    firsts: List[float] = []
    steadies: List[float] = []
    burst_cpu = 0.0
    flush_timeouts = 0
    started = time.perf_counter()
    deadline = started + args.budget
    if args.turns:
        _say("READY")
    while (
        _my_turn()
        if args.turns
        else len(walls) < args.min_batches
        or (time.perf_counter() < deadline and len(walls) < args.max_batches)
    ):
        cpu = _cpu_seconds()
        calls: List[float] = []
        wall, inside = _site_batch(sites, ready.log, calls)
        burst_cpu += _cpu_seconds() - cpu
        firsts.append(calls[0])
        steadies.append(statistics.median(calls[WARMING_CALLS:]))
        walls.append(wall / len(sites))
        insides.append(inside / len(sites))
        if ready.flush(30.0) is False:
            flush_timeouts += 1
        time.sleep(IDLE_BETWEEN_BATCHES)
        if args.turns:
            _say("DONE")
    calls = len(walls) * len(sites)
    return {
        "us": (statistics.median(walls) - raise_cost) * 1e6,
        "in_call_us": statistics.median(insides) * 1e6,
        "first_call_us": statistics.median(firsts) * 1e6,
        "steady_us": statistics.median(steadies) * 1e6,
        "cpu_us": (burst_cpu / calls - raise_cost) * 1e6,
        "raise_us": raise_cost * 1e6,
        "calls": calls,
        "batches": len(walls),
        "warmup": len(sites),
        "flush_timeouts": flush_timeouts,
        "seconds": time.perf_counter() - started,
        "sdk": ready.stats(),
    }


def measure_memory(args: argparse.Namespace) -> Dict[str, Any]:
    """Bytes held per queued event: a full queue of distinct errors with 30-frame stacks.

    The sink never answers, so the worker is stuck sending the first (warm-up)
    event while the queue fills with ``queue_size`` errors of distinct types
    raised ``--depth`` frames deep. tracemalloc counts what the queue holds
    after a collection, net of what was allocated before the fill.
    """
    import gc
    import tracemalloc

    import ez_pixel

    ez_pixel.init_pixel(KEY, args.url + "/ingest")
    logger = _logger()
    from ez_pixel.client import active_client

    client = active_client()
    assert client is not None
    size = client.options.queue_size
    kinds = [type(f"OrderError{i}", (ValueError,), {}) for i in range(size)]

    def deep(level: int, kind: type) -> None:
        if level <= 1:
            raise kind(f"card declined, {kind.__name__}")
        deep(level - 1, kind)

    try:
        deep(args.depth, ValueError)
    except ValueError:
        logger.exception("warm-up")  # the worker sends this one and waits on it
    time.sleep(0.5)  # past the quiet period: the worker is now stuck on the black hole
    gc.collect()
    rss_before = _status_kb("VmRSS")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for kind in kinds:
        try:
            deep(args.depth, kind)
        except ValueError:
            logger.exception("order %s failed", 42)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    rss_after = _status_kb("VmRSS")
    stats = ez_pixel.stats()
    queued = int(stats["queued"]) - 1  # type: ignore[call-overload]
    return {
        "queue_size": size,
        "queued": queued,
        "depth": args.depth,
        "held_bytes": held,
        "bytes_per_event": held / queued if queued else None,
        "full_queue_mb": held / queued * size / 1e6 if queued else None,
        "rss_growth_mb": (rss_after - rss_before) / 1024,
        "sdk": stats,
    }


def measure_throughput(args: argparse.Namespace) -> Dict[str, Any]:
    """Batches of ``--batch`` errors, each followed by a flush, until ``--calls`` or the budget."""
    ready = setup(args.contender, args.url)
    for _ in range(args.batch):  # one untimed batch: first-use imports and connections
        try:
            recurse(DEPTH)
        except ValueError:
            ready.log()
    ready.flush(30.0)
    sent = 0
    flush_timeouts = 0
    cpu = _cpu_seconds()
    started = time.perf_counter()
    deadline = started + args.budget
    while sent < args.calls and time.perf_counter() < deadline:
        for _ in range(args.batch):
            try:
                recurse(DEPTH)
            except ValueError:
                ready.log()
        sent += args.batch
        if ready.flush(30.0) is False:
            flush_timeouts += 1
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    return {
        "sent": sent,
        "warmup": args.batch,
        "seconds": elapsed,
        "cpu_us_per_event": cpu / sent * 1e6 if sent else None,
        "flush_timeouts": flush_timeouts,
        "sdk": ready.stats(),
    }


def measure_exit(args: argparse.Namespace) -> Dict[str, Any]:
    """One logged error, then a normal exit (``--baseline``: the imports only)."""
    if args.baseline:
        import_only(args.contender)
        return {}
    ready = setup(args.contender, args.url)
    try:
        recurse(DEPTH)
    except ValueError:
        ready.log()
    return {}


def measure_idle(args: argparse.Namespace) -> Dict[str, Any]:
    """CPU time and other threads' wakeups over ``--window`` seconds of doing nothing."""
    ready: Optional[Setup] = None
    if args.contender != "none":
        ready = setup(args.contender, args.url)
    if ready is not None and args.after_error:
        try:
            recurse(DEPTH)
        except ValueError:
            ready.log()
        ready.flush(5.0)
    time.sleep(0.3)  # let start-up work settle
    switches = _thread_switches()
    cpu = _cpu_seconds()
    time.sleep(args.window)
    cpu = _cpu_seconds() - cpu
    after = _thread_switches()
    wakeups = sum(after[tid] - switches.get(tid, 0) for tid in after)
    return {
        "cpu_ms": cpu * 1000,
        "wakeups": wakeups,
        "threads": threading.active_count(),
        "window": args.window,
    }


def measure_init(args: argparse.Namespace) -> Dict[str, Any]:
    """Milliseconds of the SDK's init call, its imports already done."""
    import_only(args.contender)
    started = time.perf_counter()
    setup(args.contender, args.url)
    return {"ms": (time.perf_counter() - started) * 1000}


MEASURES: Dict[str, Callable[[argparse.Namespace], Dict[str, Any]]] = {
    "caller": measure_caller,
    "captured": measure_captured,
    "memory": measure_memory,
    "throughput": measure_throughput,
    "exit": measure_exit,
    "idle": measure_idle,
    "init": measure_init,
}


def report(result: Dict[str, Any]) -> None:
    """Print the one ``RESULT`` line the orchestrator reads."""
    sys.stdout.write("RESULT " + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def main(argv: Optional[List[str]] = None) -> None:
    """Parse the arguments, run one measure, print its result."""
    parser = argparse.ArgumentParser(description="Run one benchmark measure (see bench/run.py).")
    parser.add_argument("measure", choices=sorted(MEASURES))
    parser.add_argument("contender")
    parser.add_argument("--url", default="http://127.0.0.1:9", help="the sink, http://host:port")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds, after min batches")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--batch-seconds", type=float, default=0.08)
    parser.add_argument("--batch-max", type=int, default=1000)
    parser.add_argument("--min-batches", type=int, default=7)
    parser.add_argument("--max-batches", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=30, help="frames deep (memory)")
    parser.add_argument("--window", type=float, default=3.0)
    parser.add_argument("--after-error", action="store_true")
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--turns", action="store_true", help="captured: one batch per stdin go")
    args = parser.parse_args(argv)
    try:
        result = MEASURES[args.measure](args)
    except Skip as exc:
        result = {"skipped": str(exc)}
    report(result)


if __name__ == "__main__":
    main()
