"""Where the caller's microseconds go: profiles of ``logger.exception`` with ez-pixel active.

Runs in the ``ours`` virtualenv against a healthy sink (``--url``): 20,000
``logger.exception`` calls from the same 8-frame-deep stack as the caller-cost
measure, once under cProfile (exact call counts, but its per-call overhead
inflates small functions) and once under pyinstrument (sampling, closer to
real proportions). Only the calling thread is profiled: the worker's time
shows up only as the GIL it takes from the caller.

The flood check drops most of those calls early, so it then profiles calls
that are all captured in full, as the "captured" measure makes them (batches
of 50 distinct errors, a flush between batches, only the batches profiled),
under cProfile and pyinstrument, and times the worker's two steps per event
outside any thread (building the request body, and POSTing it to the sink),
with a cProfile of both.

Writes the reports to ``--out`` and prints ``RESULT {json}`` with the top
functions by own time and their share of the time inside ``Logger.exception``.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scenarios import DEPTH, _site_batch, make_sites, recurse, setup

TOP = 15


def run(log: Callable[[], None], calls: int) -> float:
    """``calls`` raise-catch-log iterations; returns the seconds they took."""
    started = time.perf_counter()
    for _ in range(calls):
        try:
            recurse(DEPTH)
        except ValueError:
            log()
    return time.perf_counter() - started


def _where(key: Any) -> str:
    filename, line, name = key
    parts = Path(filename).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else filename
    return f"{short}:{line}({name})"


def _rows(
    table: Dict[Any, Any], calls: int, inside: float, skip: Callable[[str], bool]
) -> List[Dict[str, Any]]:
    """Per-function rows of a pstats table, per logged call, by own time (the harness skipped)."""
    rows: List[Dict[str, Any]] = []
    for key, (_, ncalls, tottime, cumtime, _) in table.items():
        if skip(key[2]):
            continue
        rows.append(
            {
                "function": _where(key),
                "calls_per_log": ncalls / calls,
                "own_us_per_log": tottime / calls * 1e6,
                "cum_us_per_log": cumtime / calls * 1e6,
                "share": tottime / inside if inside else 0.0,
            }
        )
    rows.sort(key=lambda row: -row["own_us_per_log"])
    return rows


def cprofile_report(log: Callable[[], None], calls: int) -> Dict[str, Any]:
    """Profile ``calls`` iterations; own time per function as a share of ``Logger.exception``."""
    profiler = cProfile.Profile()
    profiler.enable()
    run(log, calls)
    profiler.disable()
    stats = pstats.Stats(profiler)
    table: Dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    inside = sum(
        entry[3] for key, entry in table.items() if key[2] == "exception" and "logging" in key[0]
    )
    rows = _rows(table, calls, inside, lambda name: name in ("recurse", "run", "<lambda>"))
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    return {"inside_us_per_log": inside / calls * 1e6, "top": rows[:TOP], "text": text.getvalue()}


def pyinstrument_report(log: Callable[[], None], calls: int) -> Optional[str]:
    """pyinstrument's text report of ``calls`` iterations, or None if it is not installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    profiler = Profiler(interval=0.0002)
    profiler.start()
    run(log, calls)
    profiler.stop()
    return str(profiler.output_text(unicode=False, color=False, show_all=False))


def captured_report(
    log: Callable[[], None], flush: Callable[[float], object], batches: int
) -> Dict[str, Any]:
    """Every call captured in full, as in the "captured" measure, timed and profiled.

    Batches of one error from each of 50 distinct call sites (no flood control
    applies), a flush after each batch; only the batches are timed and
    profiled, so the worker's delivery (during the flush) is not in the profile.
    """
    try:
        sites = make_sites(name="bench_profile_sites")
        _site_batch(sites, log)
        flush(30.0)
        plain = []
        for _ in range(batches):
            plain.append(_site_batch(sites, log)[1] / len(sites))
            flush(30.0)
        profiler = cProfile.Profile()
        for _ in range(batches):
            profiler.enable()
            _site_batch(sites, log)
            profiler.disable()
            flush(30.0)
        calls = batches * len(sites)
        stats = pstats.Stats(profiler)
        table: Dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        inside = sum(
            entry[3]
            for key, entry in table.items()
            if key[2] == "exception" and "logging" in key[0]
        )
        rows = _rows(
            table, calls, inside, lambda name: name == "_site_batch" or name.startswith("site_")
        )
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        text.write("\n--- by cumulative time ---\n")
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        sampled = None
        try:
            from pyinstrument import Profiler

            sampler = Profiler(interval=0.0001)
            for _ in range(batches):
                sampler.start()
                _site_batch(sites, log)
                sampler.stop()
                flush(30.0)
            sampled = str(sampler.output_text(unicode=False, color=False, show_all=False))
        except ImportError:
            pass
        return {
            "unprofiled_in_call_us": statistics.median(plain) * 1e6,
            "inside_us_per_log": inside / calls * 1e6,
            "top": rows[:TOP],
            "text": text.getvalue(),
            "sampled": sampled,
        }
    except Exception as exc:  # internals moved: say so, keep the other results
        return {"error": f"{type(exc).__name__}: {exc}"}


def breakdown(
    log: Callable[[], None], flush: Callable[[float], object], rounds: int
) -> Dict[str, Any]:
    """Where a fully captured call's time goes, by switching stages off (no profiler).

    Batches of 50 distinct errors as in the "captured" measure, the variants
    interleaved round after round, median µs inside ``logger.exception`` of
    each: logging with no handler; ``PixelHandler.emit`` doing nothing (the
    handler's dispatch); ``Client.begin_exception`` doing nothing (the
    handler's own layers); ``Client.queue`` doing nothing (the capture:
    frames, flood check, texts, causes, the record's message and extras);
    everything (the queueing).
    Uses internals: reports an error instead of failing when they move.
    """
    try:
        import logging

        from ez_pixel import client as client_module
        from ez_pixel import handler as handler_module

        root = logging.getLogger()
        pixel = [h for h in root.handlers if isinstance(h, handler_module.PixelHandler)]
        emit = handler_module.PixelHandler.emit
        capture = client_module.Client.begin_exception
        submit = client_module.Client.queue

        def nothing(*args: Any, **kwargs: Any) -> None:
            return None

        def restore() -> None:
            handler_module.PixelHandler.emit = emit  # type: ignore[method-assign]
            client_module.Client.begin_exception = capture  # type: ignore[method-assign]
            client_module.Client.queue = submit  # type: ignore[method-assign]
            for handler in pixel:
                if handler not in root.handlers:
                    root.addHandler(handler)

        def no_handler() -> None:
            for handler in pixel:
                root.removeHandler(handler)

        variants: Dict[str, Callable[[], None]] = {
            "no handler": no_handler,
            "emit does nothing": lambda: setattr(handler_module.PixelHandler, "emit", nothing),
            "begin_exception does nothing": lambda: setattr(
                client_module.Client, "begin_exception", nothing
            ),
            "queue does nothing": lambda: setattr(client_module.Client, "queue", nothing),
            "everything": lambda: None,
        }
        sites = make_sites(name="bench_breakdown_sites")
        found: Dict[str, List[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, switch in variants.items():
                switch()
                try:
                    found[name].append(_site_batch(sites, log)[1] / len(sites) * 1e6)
                finally:
                    restore()
                flush(30.0)
        return {name: statistics.median(values) for name, values in found.items()}
    except Exception as exc:  # internals moved: say so, keep the other results
        return {"error": f"{type(exc).__name__}: {exc}"}


def worker_report(url: str, events: int = 1000) -> Dict[str, Any]:
    """The worker's cost per event, outside any thread: building the body, then the POST.

    Uses ez-pixel internals (``Client.prepare``, ``transport.Transport``), so it
    reports an error instead of failing when they change.
    """
    try:
        from ez_pixel._delivery.transport import Transport
        from ez_pixel.client import Client
        from ez_pixel.options import make_options

        client = Client(make_options("pk_test_bench", url + "/ingest"))
        try:
            recurse(DEPTH)
        except ValueError as exc:
            capture = client.exception_capture(exc, "error", message="order 42 failed")
        body = client.prepare(capture)
        assert body is not None
        transport = Transport(client.options)
        transport.post(body)  # connect first
        started = time.perf_counter()
        for _ in range(events):
            client.prepare(capture)
        prepare_us = (time.perf_counter() - started) / events * 1e6
        started = time.perf_counter()
        for _ in range(events):
            transport.post(body)
        post_us = (time.perf_counter() - started) / events * 1e6
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(events // 2):
            transport.post(client.prepare(capture) or body)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        return {
            "prepare_us": prepare_us,
            "post_us": post_us,
            "body_bytes": len(body),
            "text": text.getvalue(),
        }
    except Exception as exc:  # internals moved: say so, keep the caller-side results
        return {"error": f"{type(exc).__name__}: {exc}"}


def main(argv: Optional[List[str]] = None) -> None:
    """Profile, write the reports, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a healthy sink, http://host:port")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--out", default=str(Path(__file__).with_name("profile.txt")))
    args = parser.parse_args(argv)
    ready = setup("ours", args.url)
    run(ready.log, 2000)  # warm up: worker started, connection open, caches filled
    plain_us = run(ready.log, args.calls) / args.calls * 1e6
    profiled = cprofile_report(ready.log, args.calls)
    sampled = pyinstrument_report(ready.log, args.calls)
    captured = captured_report(ready.log, ready.flush, max(20, args.calls // 500))
    stages = breakdown(ready.log, ready.flush, max(20, args.calls // 250))
    worker = worker_report(args.url)
    with open(args.out, "w") as out:
        out.write(f"# {args.calls} logger.exception calls, ez-pixel active, healthy sink\n")
        out.write(f"# unprofiled: {plain_us:.1f} us per raise+log iteration\n\n")
        out.write("## cProfile (caller thread, sorted by own time)\n\n")
        out.write(profiled.pop("text"))
        if sampled is not None:
            out.write("\n## pyinstrument (caller thread, sampled)\n\n")
            out.write(sampled)
        if "text" in captured:
            out.write(
                "\n## cProfile, every call captured in full (50 distinct errors a batch, "
                "flush between batches, only the batches profiled), unprofiled "
                f"{captured['unprofiled_in_call_us']:.1f} us inside logger.exception\n\n"
            )
            out.write(captured.pop("text"))
            sampled_captured = captured.pop("sampled", None)
            if sampled_captured:
                out.write("\n## pyinstrument, every call captured in full (sampled)\n\n")
                out.write(sampled_captured)
        if "error" not in stages:
            out.write("\n## every call captured: median us inside logger.exception, stages off\n\n")
            for name, value in stages.items():
                out.write(f"{name:35s} {value:8.2f}\n")
        if "text" in worker:
            out.write(
                f"\n## worker side, per event: build the body {worker['prepare_us']:.0f} us, "
                f"POST it {worker['post_us']:.0f} us ({worker['body_bytes']} bytes)\n\n"
            )
            out.write(worker.pop("text"))
    profiled["captured"] = captured
    profiled["breakdown"] = stages
    profiled["worker"] = worker
    profiled["unprofiled_us_per_iteration"] = plain_us
    profiled["sdk"] = ready.stats()
    sys.stdout.write("RESULT " + json.dumps(profiled, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
