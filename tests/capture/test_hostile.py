"""Hostile input never breaks the app, and every event stays within the server's limits."""

import importlib
import linecache
import logging
import sys
import zipfile
from pathlib import Path
from typing import Any

import ez_pixel
from ez_pixel.contract import MAX_MESSAGE_CHARS
from helpers import agent_line, assert_valid

log = logging.getLogger("tests.hostile")


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class NotAString(Exception):
    def __str__(self) -> Any:
        return 42


class BadMessage:
    def __str__(self) -> str:
        raise ValueError("broken __str__")

    def __repr__(self) -> str:
        raise ValueError("broken __repr__")


def accepted(collector: Any, count: int) -> list:  # type: ignore[type-arg]
    assert ez_pixel.flush_pixel(10)
    events = collector.wait_for(count)
    assert all(status == 200 for status, _, _ in collector.received), collector.received
    for event in events:
        assert_valid(event)
    return events  # type: ignore[no-any-return]


def test_exceptions_whose_str_misbehaves(pixel: Any, collector: Any) -> None:
    pixel()
    for exc_type in (Unprintable, NotAString):
        try:
            raise exc_type()
        except Exception:
            log.exception("handled")
    first, second = accepted(collector, 2)
    assert (
        first["type"] == "test_hostile.Unprintable"
        and "unprintable Unprintable" in first["message"]
    )
    assert second["type"] == "test_hostile.NotAString"


def test_huge_message_is_cut(pixel: Any, collector: Any) -> None:
    pixel()
    log.error("x" * 1_000_000)
    try:
        raise ValueError("y" * 1_000_000)
    except ValueError:
        log.exception("z" * 500_000)
    first, second = accepted(collector, 2)
    assert len(first["message"]) == 4096 and first["message"].startswith("xxx")
    assert len(second["message"]) == 4096


def test_astral_text_is_cut_in_utf16_units(pixel: Any, collector: Any) -> None:
    """The server counts UTF-16 code units: 4,096 emoji are 8,192 of them."""
    pixel()
    emoji = "\U0001f600"
    log.error(emoji * 5000)
    try:
        raise ValueError(emoji * 3000)
    except ValueError:
        ez_pixel.report_pixel("a" + emoji * 3000, error=sys.exc_info()[1])
    first, second = accepted(collector, 2)
    for event in (first, second):
        units = len(event["message"].encode("utf-16-le")) // 2
        assert 4090 <= units <= 4096, units
    assert first["message"].startswith(emoji) and first["message"].endswith("…")
    assert "\ud83d" not in first["message"]  # no half of a pair left behind


def recurse(depth: int) -> int:
    return recurse(depth + 1) + 1


def test_deep_recursion_is_trimmed_in_the_middle(pixel: Any, collector: Any) -> None:
    pixel()
    try:
        recurse(0)
    except RecursionError:
        log.exception("too deep")
    (event,) = accepted(collector, 1)
    stack = event["stack"]
    assert stack[0]["fn"] == "recurse"
    assert any("frames omitted" in frame["file"] for frame in stack)
    assert stack[-1]["fn"] != "recurse"  # outermost frames are kept too
    assert len(stack) <= 101


def test_code_without_a_source_file(pixel: Any, collector: Any) -> None:
    pixel()
    try:
        exec(compile("def f():\n    raise KeyError('exec')\nf()\n", "<string>", "exec"), {})
    except KeyError:
        log.exception("exec failed")
    (event,) = accepted(collector, 1)
    assert event["stack"][0]["file"] == "<string>" and event["stack"][0]["in_app"] is False
    # the context falls back to the innermost frame of the app that can be read
    assert event["code_context"]["file"] == "tests/capture/test_hostile.py"


def test_source_file_that_is_not_utf8(pixel: Any, collector: Any, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(
        b"# caf\xe9 \xff\xfe\ndef boom():\n    raise ValueError('caf\\xe9')  # d\xe9j\xe0\n"
    )
    (tmp_path / "long.py").write_text("def boom():\n    x = 1; " + "y = 2; " * 15_000 + "1 / 0\n")
    sys.path.insert(0, str(tmp_path))
    # Only our handler: on Python 3.8 the stdlib's own traceback formatting (in
    # pytest's capture handler) raises SyntaxError on such a file.
    isolated = logging.getLogger("tests.hostile.source")
    isolated.propagate = False
    isolated.addHandler(ez_pixel.PixelHandler())
    try:
        pixel(project_root=str(tmp_path))
        for name in ("latin", "long"):
            try:
                importlib.import_module(name).boom()
            except Exception:
                isolated.exception("bad source")
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("latin", "long"):
            sys.modules.pop(name, None)
            linecache.checkcache(str(tmp_path / f"{name}.py"))
            linecache.cache.pop(str(tmp_path / f"{name}.py"), None)
    latin, long = accepted(collector, 2)
    assert latin["stack"][0]["file"] == "latin.py"
    line = agent_line(latin["code_context"])
    assert "raise ValueError" in line and "\ufffd" in line
    assert all(len(line) <= 300 for line in long["code_context"]["lines"])


def test_lone_surrogates_and_control_characters(pixel: Any, collector: Any) -> None:
    pixel()
    log.error("bad \udcff text \x00 and \ud800 end")
    try:
        raise ValueError("\udc80")
    except ValueError:
        log.exception("surrogate")
    first, second = accepted(collector, 2)
    assert first["message"].startswith("bad ") and "\udcff" not in first["message"]
    assert "\ud800" not in second["message"]


def test_format_mismatch_and_unprintable_arguments(pixel: Any, collector: Any) -> None:
    pixel()
    # Only our handler: pytest's capture handler re-raises formatting errors.
    isolated = logging.getLogger("tests.hostile.isolated")
    isolated.propagate = False
    isolated.addHandler(ez_pixel.PixelHandler())
    isolated.error("two placeholders %s %s", "only one")
    isolated.error(BadMessage())
    isolated.error("value %s", BadMessage())
    events = accepted(collector, 3)
    assert "formatting failed" in events[0]["message"]
    assert len(events) == 3


class BraceRecord(logging.LogRecord):
    """A record factory's record that formats ``{}`` templates (as some apps configure)."""

    def getMessage(self) -> str:
        return str(self.msg).format(*self.args)


def test_an_exception_log_message_reads_as_it_did_at_the_log_call(
    pixel: Any, collector: Any
) -> None:
    pixel()
    isolated = logging.getLogger("tests.hostile.messages")
    isolated.propagate = False
    isolated.addHandler(ez_pixel.PixelHandler())
    basket = ["apple"]
    for index, (template, args) in enumerate(
        [
            ("order %s failed for %r at %.1f%% (%s)", (42, "ann", 9.5, None)),
            ("basket %s", (basket,)),
            ("two placeholders %s %s", ("only one",)),
            ("long %s", ("x" * 20_000,)),
        ]
    ):
        try:
            raise KeyError(index)
        except KeyError:
            isolated.exception(template, *args)
    basket.append("pear")  # after the call: the event shows the basket as it was
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(BraceRecord)
    try:
        try:
            raise KeyError(4)
        except KeyError:
            isolated.exception("order {} failed", 7)
    finally:
        logging.setLogRecordFactory(factory)
    messages = [event["message"] for event in accepted(collector, 5)]
    assert messages[0] == "order 42 failed for 'ann' at 9.5% (None): 0"
    assert messages[1] == "basket ['apple']: 1"
    assert messages[2].startswith("two placeholders %s %s (formatting failed; args=")
    assert messages[3].startswith("long xxx") and len(messages[3]) <= MAX_MESSAGE_CHARS
    assert messages[4] == "order 7 failed: 4"


def test_exception_with_cyclic_cause_and_context(pixel: Any, collector: Any) -> None:
    pixel()
    first, second = ValueError("a"), KeyError("b")
    first.__cause__, second.__context__ = second, first
    try:
        raise first
    except ValueError:
        log.exception("cycle")
    (event,) = accepted(collector, 1)
    assert event["type"] == "ValueError"


def test_exception_refusing_attributes(pixel: Any, collector: Any) -> None:
    class Frozen(Exception):
        def __setattr__(self, name: str, value: Any) -> None:
            raise AttributeError("frozen")

    pixel()
    try:
        raise Frozen("cold")
    except Frozen:
        log.exception("frozen")
    (event,) = accepted(collector, 1)
    assert event["type"].endswith("Frozen")


def test_frames_from_vanished_binary_and_zipped_sources(
    tmp_path: Path, pixel: Any, collector: Any
) -> None:
    (tmp_path / "vanishing.py").write_text("def boom():\n    raise OSError('gone')\n")
    (tmp_path / "binary.py").write_text("def boom():\n    raise OSError('bin')\n")
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped.py", "def boom():\n    raise OSError('zipped')\n")
    sys.path[:0] = [str(tmp_path), str(archive)]
    pixel(project_root=str(tmp_path))
    log = logging.getLogger("tests.fuzz.files")
    log.propagate = False
    log.addHandler(ez_pixel.PixelHandler())
    try:
        import binary  # type: ignore[import-not-found]
        import vanishing  # type: ignore[import-not-found]
        import zipped  # type: ignore[import-not-found]

        (tmp_path / "vanishing.py").unlink()
        (tmp_path / "binary.py").write_bytes(b"\x7fELF\x00\x01\xff" * 100)  # replaced on disk
        for module in (vanishing, binary, zipped):
            try:
                module.boom()
            except OSError:
                log.exception("source trouble")
        vanished, binary_event, zipped_event = collector.wait_for(3)
    finally:
        del sys.path[:2]
        for name in ("vanishing", "binary", "zipped"):
            sys.modules.pop(name, None)
    for event in (vanished, binary_event, zipped_event):
        assert_valid(event)
    assert vanished["code_context"] is None and vanished["stack"][0]["file"] == "vanishing.py"
    assert binary_event["stack"][0]["fn"] == "boom" and binary_event["code_context"] is None
    assert agent_line(zipped_event["code_context"]).strip() == "raise OSError('zipped')"
    assert not zipped_event["stack"][0]["file"].startswith("/")


def test_messages_quote_project_paths_relative(pixel: Any, events: Any) -> None:
    import os

    pixel()
    here = os.path.abspath(__file__)
    log.error("coro=<refresh() defined at %s:22>", here)
    (event,) = events(1)
    assert event["message"] == "coro=<refresh() defined at tests/capture/test_hostile.py:22>"


class _ImitationCode:
    """A code object as billiard (Celery's pool) copies it: names, no line table."""

    def __init__(self, code: Any) -> None:
        self.co_filename = code.co_filename
        self.co_name = code.co_name
        self.co_firstlineno = code.co_firstlineno
        self._positions = list(code.co_positions()) if hasattr(code, "co_positions") else []

    def co_positions(self) -> Any:  # what the traceback module reads on 3.11+
        return iter(self._positions)


class _ImitationFrame:
    def __init__(self, frame: Any) -> None:
        self.f_code = _ImitationCode(frame.f_code)
        self.f_globals = {"__name__": frame.f_globals.get("__name__")}
        self.f_lineno = frame.f_lineno


class _ImitationTraceback:
    """A picklable traceback as billiard's ``einfo.Traceback`` makes one."""

    def __init__(self, tb: Any) -> None:
        self.tb_frame = _ImitationFrame(tb.tb_frame)
        self.tb_lineno = tb.tb_lineno
        self.tb_lasti = tb.tb_lasti
        self.tb_next = _ImitationTraceback(tb.tb_next) if tb.tb_next is not None else None


def _fail_deep() -> None:
    raise KeyError("order 7")


def test_imitation_tracebacks_keep_their_line_numbers(pixel: Any, collector: Any) -> None:
    """Celery logs a task's failure with billiard's copy of the traceback."""
    pixel()
    try:
        _fail_deep()
    except KeyError as exc:
        real = exc.__traceback__
        copied = _ImitationTraceback(real)
        log.error("task failed", exc_info=(KeyError, exc, copied))  # type: ignore[arg-type]
    (event,) = accepted(collector, 1)
    lines = [(frame["fn"], frame["line"]) for frame in event["stack"]]
    assert lines[0] == ("_fail_deep", _fail_deep.__code__.co_firstlineno + 1)
    assert lines[1][0] == "test_imitation_tracebacks_keep_their_line_numbers"
    assert lines[1][1] == real.tb_lineno  # type: ignore[union-attr]
    assert event["code_context"]["error_line"] == lines[0][1]
