"""structlog errors become events: PixelProcessor, stdlib routing, context, async."""

import asyncio
import io
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest
import structlog
from structlog.stdlib import ProcessorFormatter

import ez_pixel
from ez_pixel._guard import sdk_thread
from ez_pixel.options import make_options
from ez_pixel.structlog import PixelProcessor
from helpers import KEY, assert_valid, run_script

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "structlog_app.py"
THIS_FILE = "tests/test_structlog.py"

Processor = Callable[[Any, str, Any], Any]


@pytest.fixture(autouse=True)
def _clean_structlog() -> Iterator[None]:
    """structlog's global configuration, contextvars and logger class, reset after."""
    logger_class = logging.getLoggerClass()
    root_level = logging.getLogger().level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.setLoggerClass(logger_class)
    logging.getLogger().setLevel(root_level)


def exactly(events: Any, collector: Any, count: int) -> List[Dict[str, Any]]:
    """The ``count`` events that arrived, checking no other request came after a flush."""
    arrived: List[Dict[str, Any]] = events(count)
    assert len(collector.received) == count, [body for _, body, _ in collector.received]
    for event in arrived:
        assert_valid(event)
    return arrived


def failing_line(event: Dict[str, Any]) -> str:
    context = event["code_context"]
    line: str = context["lines"][context["error_line"] - context["start_line"]]
    return line.strip()


def charge(amount: int) -> int:
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    return amount


def pure(
    out: io.StringIO,
    *,
    before: Sequence[Processor] = (),
    processor: Optional[Processor] = None,
    after: Sequence[Processor] = (),
    min_level: int = logging.DEBUG,
    renderer: Optional[Processor] = None,
) -> Any:
    """Pure structlog writing JSON lines to ``out``; returns a logger."""
    chain: List[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        *before,
        processor if processor is not None else PixelProcessor(),
        *after,
        structlog.processors.format_exc_info,
        renderer or structlog.processors.JSONRenderer(),
    ]
    structlog.configure(
        processors=chain,
        wrapper_class=structlog.make_filtering_bound_logger(min_level),
        logger_factory=structlog.PrintLoggerFactory(out),
    )
    return structlog.get_logger()


# -- importing ------------------------------------------------------------------


def test_importing_ez_pixel_does_not_import_structlog(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import logging, sys
        import ez_pixel
        ez_pixel.init_pixel()
        logging.getLogger("svc").error("plain logging still works")
        ez_pixel.flush_pixel(5)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "structlog"))
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    (event,) = collector.wait_for(1)
    assert event["message"] == "plain logging still works"


def test_missing_structlog_names_the_extra(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import sys
        sys.modules["structlog"] = None  # as if it were not installed
        import ez_pixel
        try:
            import ez_pixel.structlog
        except ImportError as exc:
            print("ImportError:", exc)
        else:
            print("imported")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ImportError:")
    assert "ez-pixel[structlog]" in result.stdout


def test_module_imports_the_real_structlog() -> None:
    import ez_pixel.structlog as integration

    assert integration.__name__ == "ez_pixel.structlog"
    assert sys.modules["structlog"] is structlog
    assert structlog.__file__ is not None
    assert os.sep + "ez_pixel" + os.sep not in structlog.__file__


# -- setup 1: pure structlog ---------------------------------------------------------


@pytest.mark.parametrize("factory", ["print", "write"])
def test_pure_structlog_exception_becomes_one_exception_event(
    pixel: Any, events: Any, collector: Any, factory: str
) -> None:
    pixel()
    out = io.StringIO()
    pure(out)
    if factory == "write":  # the same chain over WriteLogger
        structlog.configure(logger_factory=structlog.WriteLoggerFactory(out))
    log = structlog.get_logger().bind(user_id=42)
    try:
        charge(-5)
    except ValueError:
        log.exception("payment failed", order_id="A1")
    (event,) = exactly(events, collector, 1)
    assert event["type"] == "ValueError"
    assert event["message"] == "payment failed: negative amount -5"
    assert event["level"] == "error"
    assert event["manual_report"] is False
    assert event["project_key"] == KEY
    inner = event["stack"][0]
    assert inner["fn"] == "charge" and inner["file"] == THIS_FILE and inner["in_app"]
    assert event["stack"][1]["fn"].startswith("test_pure_structlog_exception")
    assert failing_line(event) == 'raise ValueError(f"negative amount {amount}")'
    assert event["context"] == {"user_id": "42", "order_id": "A1"}
    # The processor passed the event dict on: the renderer still printed it all.
    line = out.getvalue()
    assert '"event": "payment failed"' in line and '"user_id": 42' in line
    assert "ValueError: negative amount -5" in line


def test_event_dict_passes_through_unchanged(collector: Any) -> None:
    client = ez_pixel.Client(make_options(KEY, collector.ingest_url))
    try:
        processor = PixelProcessor(client=client)
        for method, event_dict in [
            ("info", {"event": "fine", "n": 1}),
            ("error", {"event": "bad", "n": 2, "exc_info": True}),
            ("critical", {"event": "worse", "level": "critical", "obj": object()}),
        ]:
            before = dict(event_dict)
            assert processor(None, method, event_dict) is event_dict
            assert event_dict == before
        assert client.flush(5)
        assert len(collector.wait_for(2)) == 2
    finally:
        client.close(2)


def test_exc_info_forms(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = pure(io.StringIO())
    try:
        raise KeyError("k1")
    except KeyError as exc:
        log.error("instance", exc_info=exc)
    try:
        raise OSError("disk")
    except OSError:
        log.error("tuple", exc_info=sys.exc_info())
    try:
        raise TimeoutError("slow")
    except TimeoutError:
        log.error("true", exc_info=True)
    log.error("true outside except", exc_info=True)
    instance, as_tuple, true, outside = exactly(events, collector, 4)
    assert instance["type"] == "KeyError" and instance["message"] == "instance: 'k1'"
    assert as_tuple["type"] == "OSError" and as_tuple["message"] == "tuple: disk"
    assert true["type"] == "TimeoutError" and true["message"] == "true: slow"
    for event, raised in [(instance, "KeyError"), (as_tuple, "OSError"), (true, "TimeoutError")]:
        assert event["stack"][0]["fn"] == "test_exc_info_forms"
        assert failing_line(event).startswith(f"raise {raised}(")
    assert outside["type"] == "LogMessage" and outside["message"] == "true outside except"
    assert failing_line(outside) == 'log.error("true outside except", exc_info=True)'


def test_exception_never_raised_gets_the_call_site(pixel: Any, events: Any) -> None:
    pixel()
    log = pure(io.StringIO())
    log.error("not raised", exc_info=RuntimeError("made, not raised"))
    (event,) = events(1)
    assert event["type"] == "RuntimeError"
    assert event["message"] == "not raised: made, not raised"
    assert (
        failing_line(event) == 'log.error("not raised", exc_info=RuntimeError("made, not raised"))'
    )


@pytest.mark.parametrize(
    "renderer",
    [structlog.processors.format_exc_info, structlog.processors.dict_tracebacks],
    ids=["format_exc_info", "dict_tracebacks"],
)
def test_exception_rendered_before_the_processor_is_still_the_real_one(
    pixel: Any, events: Any, collector: Any, renderer: Processor
) -> None:
    pixel()
    log = pure(io.StringIO(), before=[renderer])
    try:
        charge(-7)
    except ValueError:
        log.exception("rendered first")
    (event,) = exactly(events, collector, 1)
    assert event["type"] == "ValueError"
    assert event["message"] == "rendered first: negative amount -7"
    assert [f["fn"] for f in event["stack"][:2]] == [
        "charge",
        "test_exception_rendered_before_the_processor_is_still_the_real_one",
    ]
    assert "exception" not in event["context"]


@pytest.mark.parametrize(
    "renderer",
    [structlog.processors.format_exc_info, structlog.processors.dict_tracebacks],
    ids=["format_exc_info", "dict_tracebacks"],
)
def test_rendered_exception_outside_its_except_block_is_a_message_event(
    pixel: Any, events: Any, collector: Any, renderer: Processor
) -> None:
    pixel()
    log = pure(io.StringIO(), before=[renderer])
    try:
        charge(-8)
    except ValueError as exc:
        caught = exc
    log.error("logged later", exc_info=caught)
    try:
        raise KeyError("other")
    except KeyError:  # handling a different exception than the one rendered
        log.error("logged in another except", exc_info=caught)
    later, other = exactly(events, collector, 2)
    for event in (later, other):
        assert event["type"] == "LogMessage"
        assert "ValueError: negative amount -8" in event["message"]
    assert later["message"].startswith("logged later\n")
    assert failing_line(later) == 'log.error("logged later", exc_info=caught)'
    assert other["message"].startswith("logged in another except\n")


@pytest.mark.parametrize(
    ("method", "wire_level"),
    [
        ("critical", "fatal"),
        ("error", "error"),
        ("exception", "error"),
        ("warning", "warning"),
        ("warn", "warning"),
    ],
)
def test_levels_map_to_the_server_levels(
    pixel: Any, events: Any, collector: Any, method: str, wire_level: str
) -> None:
    pixel()
    log = pure(io.StringIO(), processor=PixelProcessor(level="warning"))
    log.debug("never sent")
    log.info("never sent either")
    getattr(log, method)(f"at {method}")
    (event,) = exactly(events, collector, 1)
    assert event["level"] == wire_level
    assert event["message"] == f"at {method}"
    assert event["type"] == "LogMessage"


def test_default_level_is_error(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = pure(io.StringIO())
    log.warning("not by default")
    log.error("marker")
    (event,) = exactly(events, collector, 1)
    assert event["message"] == "marker"


def test_level_from_the_event_dict_and_custom_numbers(collector: Any) -> None:
    client = ez_pixel.Client(make_options(KEY, collector.ingest_url))
    logging.addLevelName(45, "SEVERE")
    logging.addLevelName(25, "NOTICE")
    try:
        processor = PixelProcessor(level="warning", client=client)
        processor(None, "severe", {"event": "custom name, 45"})
        processor(None, "notice", {"event": "custom name, 25: never"})
        processor(None, "log", {"event": "level_number 55", "level_number": 55})
        processor(None, "log", {"event": "level ERROR", "level": "ERROR"})
        processor(None, "log", {"event": "level 35", "level": 35})
        processor(None, "info", {"event": "info, whatever the dict says", "level": "error"})
        assert client.flush(5)
        arrived = collector.wait_for(4)
        got = {e["message"]: e["level"] for e in arrived}
        assert got == {
            "custom name, 45": "error",
            "level_number 55": "fatal",
            "level ERROR": "error",
            "level 35": "warning",
        }
        assert len(collector.received) == 4
    finally:
        client.close(2)
        logging.addLevelName(45, "Level 45")
        logging.addLevelName(25, "Level 25")


def test_invalid_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        PixelProcessor(level="loud")


def test_message_events_group_by_event_and_call_site(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    log = pure(io.StringIO())
    for user in (1, 2):
        log.bind(user=user).error("user failed", attempt=user)
    log.error("other failure", attempt=1)
    for name in ("billing", "shipping"):
        log.bind(logger=name).error("same event, other logger")
    first, second, third, billing, shipping = exactly(events, collector, 5)
    assert first["type"] == second["type"] == "LogMessage"
    assert first["message"] == second["message"] == "user failed"
    assert first["context"] == {"user": "1", "attempt": "1"}
    assert second["context"] == {"user": "2", "attempt": "2"}
    assert first["fingerprint"] == second["fingerprint"]
    assert third["fingerprint"] != first["fingerprint"]
    assert billing["fingerprint"] != shipping["fingerprint"]
    assert billing["logger"] == "billing" and "logger" not in billing["context"]
    assert first["stack"][0]["fn"] == "test_message_events_group_by_event_and_call_site"
    assert first["stack"][0]["file"] == THIS_FILE
    assert failing_line(first) == 'log.bind(user=user).error("user failed", attempt=user)'


def test_ignore_loggers(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = pure(io.StringIO(), processor=PixelProcessor(ignore_loggers=["noisy"]))
    log.bind(logger="noisy").error("ignored")
    log.bind(logger="noisy.child").error("ignored too")
    log.bind(logger="ez_pixel.worker").error("never ours")
    log.bind(logger="noisyneighbour").error("not a child of noisy")
    (event,) = exactly(events, collector, 1)
    assert event["message"] == "not a child of noisy"


def test_ignore_logger_applies_to_the_processor_too(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    ez_pixel.ignore_logger("structlog.noisy")
    log = pure(io.StringIO())
    log.bind(logger="structlog.noisy").error("ignored")
    log.bind(logger="structlog.noisy.child").error("ignored too")
    log.bind(logger="structlog.noisy_neighbour").error("reported")
    (event,) = exactly(events, collector, 1)
    assert event["message"] == "reported"


def test_own_client_and_no_client(collector: Any) -> None:
    client = ez_pixel.Client(make_options(KEY, collector.ingest_url))
    try:
        log = pure(io.StringIO(), processor=PixelProcessor(client=client))
        log.error("to my own client")
        assert client.flush(5)
        (event,) = collector.wait_for(1)
        assert event["message"] == "to my own client"
    finally:
        client.close(2)
    out = io.StringIO()
    log = pure(out)  # no init_pixel, no PIXEL_* environment: nothing to report to
    log.error("nowhere to go")
    assert "nowhere to go" in out.getvalue()


def test_sdk_thread_is_never_reported(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = pure(io.StringIO())
    sdk_thread.active = True
    try:
        log.error("from the sdk's own thread")
    finally:
        sdk_thread.active = False
    log.error("marker")
    (event,) = exactly(events, collector, 1)
    assert event["message"] == "marker"


# -- bound values -------------------------------------------------------------------


class Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_context_limits_and_hostile_values(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    # A renderer that survives what JSONRenderer would choke on (a raising repr).
    log = pure(io.StringIO(), renderer=lambda _, __, event_dict: sorted(event_dict)[0])
    log.error(
        "hostile",
        bad=Unrepresentable(),
        big="x" * 1000,
        nested={"k": list(range(1000))},
        raw=b"\xff\x00",
        surrogate="\ud800",
        **{f"k{i:02}": "v" for i in range(60)},
    )
    log.error("wide", **{f"w{i:02}": "y" * 500 for i in range(40)})
    hostile, wide = exactly(events, collector, 2)
    context = hostile["context"]
    assert len(context) == 50
    assert context["bad"] == "<unrepresentable Unrepresentable object>"
    assert len(context["big"]) == 200 and context["big"].endswith("…")
    assert len(context["nested"]) <= 200 and context["nested"].startswith("{'k': [0, 1, 2")
    assert context["raw"] == "b'\\xff\\x00'"
    assert context["surrogate"] == "\ufffd"
    assert "level" not in context and "timestamp" not in context and "event" not in context
    assert all(isinstance(v, str) and len(v) <= 200 for v in wide["context"].values())
    assert sum(len(k) + len(v) for k, v in wide["context"].items()) <= 4096
    assert 10 <= len(wide["context"]) < 40


def test_secret_bound_values_are_filtered(pixel: Any, events: Any) -> None:
    pixel()
    log = pure(io.StringIO()).bind(api_token="tok-123", user="ann")
    log.error("login failed", password="hunter2", note="Authorization: Bearer abcdefghijkl")
    (event,) = events(1)
    assert event["context"]["api_token"] == "[Filtered]"
    assert event["context"]["password"] == "[Filtered]"
    assert event["context"]["user"] == "ann"
    assert "abcdefghijkl" not in event["context"]["note"]


def test_unprintable_event_and_hostile_exc_info(pixel: Any, events: Any, collector: Any) -> None:
    class NoStr:
        def __str__(self) -> str:
            raise RuntimeError("no str")

    class NoBool:
        def __bool__(self) -> bool:
            raise RuntimeError("no bool")

    pixel()
    log = pure(io.StringIO())
    log.error(NoStr())
    processor = PixelProcessor()
    for exc_info in (NoBool(), (1, 2, 3), ("not", "an", "exception")):
        event_dict = {"event": "odd exc_info", "exc_info": exc_info}
        assert processor(None, "error", event_dict) is event_dict
    unprintable, *odd = exactly(events, collector, 4)
    assert unprintable["message"] == "<unprintable NoStr object>"
    assert [(e["type"], e["message"]) for e in odd] == [("LogMessage", "odd exc_info")] * 3


def test_contextvars_reach_context(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = pure(io.StringIO())
    structlog.contextvars.bind_contextvars(request_id="r-7", tenant="acme")
    try:
        charge(-1)
    except ValueError:
        log.bind(user_id=3).exception("request failed", path="/pay")
    (event,) = exactly(events, collector, 1)
    assert event["context"] == {
        "request_id": "r-7",
        "tenant": "acme",
        "user_id": "3",
        "path": "/pay",
    }


# -- setup 2: structlog routed through logging --------------------------------------


def stdlib_routed(
    stream: io.StringIO, *, processor: Optional[Processor], final: str = "formatter"
) -> Any:
    """structlog over logging (LoggerFactory), written by a root StreamHandler.

    ``final`` is how the event dict is handed to logging: ``formatter``
    (``ProcessorFormatter.wrap_for_formatter``), ``log_kwargs``
    (``render_to_log_kwargs``) or ``rendered`` (a JSON string).
    """
    chain: List[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    if processor is not None:
        chain.append(processor)
    handler = logging.StreamHandler(stream)
    if final == "formatter":
        chain.append(ProcessorFormatter.wrap_for_formatter)
        handler.setFormatter(
            ProcessorFormatter(
                processors=[
                    ProcessorFormatter.remove_processors_meta,
                    structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(),
                ]
            )
        )
    elif final == "log_kwargs":
        chain += [
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.render_to_log_kwargs,
        ]
    else:
        chain += [
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    logging.getLogger().addHandler(handler)
    structlog.configure(
        processors=chain,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    return structlog.get_logger("shop.routed")


@pytest.mark.parametrize(
    ("final", "with_processor"),
    [
        ("formatter", True),
        ("formatter", False),
        ("log_kwargs", True),
        ("log_kwargs", False),
        # Rendered to text before logging, a record is only text: use the processor.
        ("rendered", True),
    ],
)
def test_routed_through_logging_is_one_event_per_error(
    pixel: Any, events: Any, collector: Any, final: str, with_processor: bool
) -> None:
    pixel()
    stream = io.StringIO()
    log = stdlib_routed(stream, processor=PixelProcessor() if with_processor else None, final=final)
    structlog.contextvars.bind_contextvars(request_id="r-9")
    try:
        charge(-3)
    except ValueError:
        log.exception("checkout failed", cart=7)
    log.error("stock low for %s", "pears", sku="P1")
    failure, message = exactly(events, collector, 2)
    assert failure["type"] == "ValueError"
    assert failure["message"] == "checkout failed: negative amount -3"
    assert [f["fn"] for f in failure["stack"][:2]] == [
        "charge",
        "test_routed_through_logging_is_one_event_per_error",
    ]
    assert failure["logger"] == "shop.routed"
    assert message["type"] == "LogMessage"
    assert message["message"] == "stock low for pears"
    assert message["logger"] == "shop.routed"
    assert message["stack"][0]["fn"] == "test_routed_through_logging_is_one_event_per_error"
    assert failing_line(message) == 'log.error("stock low for %s", "pears", sku="P1")'
    if final != "log_kwargs" or with_processor:  # render_to_log_kwargs makes record attributes
        assert failure["context"] == {"request_id": "r-9", "cart": "7"}
        assert message["context"] == {"request_id": "r-9", "sku": "P1"}
    # logging still wrote both, with the traceback
    written = stream.getvalue()
    assert "checkout failed" in written and "stock low for" in written
    assert "ValueError: negative amount -3" in written


def test_routed_groups_alike_with_and_without_the_processor(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    stream = io.StringIO()
    fingerprints = []
    for processor in (PixelProcessor(), None):
        log = stdlib_routed(stream, processor=processor)
        for user in (1, 2):
            log.error("login failed for %s", user, user=user)
        fingerprints.append({e["fingerprint"] for e in events(2 * (len(fingerprints) + 1))[-2:]})
    assert fingerprints[0] == fingerprints[1] and len(fingerprints[0]) == 1
    assert len(collector.received) == 4


def test_routed_two_pixel_handlers_one_event(pixel: Any, events: Any, collector: Any) -> None:
    pixel()
    log = stdlib_routed(io.StringIO(), processor=PixelProcessor())
    extra = ez_pixel.PixelHandler(logging.WARNING)
    logging.getLogger("shop").addHandler(extra)
    try:
        log.error("seen by two handlers and the processor")
        log.warning("below the processor's level: the processor decides")
        logging.getLogger("plain").error("plain logging after structlog")
        exactly(events, collector, 2)
        messages = [body["message"] for _, body, _ in collector.received]
        assert messages == [
            "seen by two handlers and the processor",
            "plain logging after structlog",
        ]
    finally:
        logging.getLogger("shop").removeHandler(extra)


@pytest.mark.parametrize("order", ["handler-first", "formatter-first"])
def test_processor_inside_the_processor_formatter(
    pixel: Any, events: Any, collector: Any, order: str
) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(
        ProcessorFormatter(
            processors=[
                PixelProcessor(level="warning"),
                ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[structlog.stdlib.add_log_level],
        )
    )
    if order == "formatter-first":
        root.addHandler(handler)
    pixel()
    if order == "handler-first":
        root.addHandler(handler)
    structlog.configure(
        processors=[structlog.stdlib.add_log_level, ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    plain = logging.getLogger("tests.formatter")
    try:
        plain.error("foreign error record")  # root PixelHandler and the processor both see it
        plain.log(35, "custom level 35")  # below the handler's ERROR: the processor reports it
        structlog.get_logger("tests.formatter").error("structlog message")
        try:
            charge(-4)
        except ValueError:
            structlog.get_logger("tests.formatter").exception("structlog exception")
        foreign, custom, message, failure = exactly(events, collector, 4)
    finally:
        root.removeHandler(handler)
    assert foreign["message"] == "foreign error record"
    assert foreign["stack"][0]["fn"] == "test_processor_inside_the_processor_formatter"
    assert custom["level"] == "warning" and custom["message"] == "custom level 35"
    assert message["message"] == "structlog message"
    assert failure["type"] == "ValueError" and failure["stack"][0]["fn"] == "charge"
    assert failure["message"] == "structlog exception: negative amount -4"


def test_processor_in_the_chain_and_in_the_formatter(
    pixel: Any, events: Any, collector: Any
) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(
        ProcessorFormatter(
            processors=[
                PixelProcessor(),
                ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ]
        )
    )
    root.addHandler(handler)  # formats (and runs its PixelProcessor) before PixelHandler
    pixel()
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            PixelProcessor(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    log = structlog.get_logger("tests.both")
    try:
        for attempt in (1, 2):  # the same line twice: two log calls, two events
            log.error("reported once per call", attempt=attempt)
        exactly(events, collector, 2)
    finally:
        root.removeHandler(handler)


# -- setup 4: async loggers ----------------------------------------------------------


async def async_checkout(log: Any) -> None:
    try:
        charge(-9)
    except ValueError:
        await log.aexception("async checkout failed", cart=1)
    await log.aerror("async stock low", sku="A2")
    await log.ainfo("never sent")


@pytest.mark.parametrize("flavour", ["filtering", "stdlib"])
def test_async_log_methods(pixel: Any, events: Any, collector: Any, flavour: str) -> None:
    pixel()
    if flavour == "filtering":
        log = pure(io.StringIO())
    else:
        log = stdlib_routed(io.StringIO(), processor=PixelProcessor())
    structlog.contextvars.bind_contextvars(request_id="async-1")
    asyncio.run(async_checkout(log))
    failure, message = exactly(events, collector, 2)
    assert failure["type"] == "ValueError" and failure["message"].startswith("async checkout")
    assert [f["fn"] for f in failure["stack"][:2]] == ["charge", "async_checkout"]
    assert failure["context"] == {"request_id": "async-1", "cart": "1"}
    assert message["type"] == "LogMessage" and message["message"] == "async stock low"
    assert message["stack"][0]["fn"] == "async_checkout"
    assert failing_line(message) == 'await log.aerror("async stock low", sku="A2")'
    assert message["context"] == {"request_id": "async-1", "sku": "A2"}


# -- one event per exception, whatever the paths ---------------------------------------


def test_exception_reported_by_logging_first_is_not_reported_again(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    log = pure(io.StringIO())
    try:
        charge(-2)
    except ValueError as exc:
        logging.getLogger("tests.app").exception("logged by logging")
        log.exception("and by structlog")
        assert ez_pixel.report_pixel("and by hand", exc) is None
    (event,) = exactly(events, collector, 1)
    assert event["message"] == "logged by logging: negative amount -2"


def test_structlog_then_uncaught_is_one_event(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import structlog
        import ez_pixel
        from ez_pixel.structlog import PixelProcessor

        ez_pixel.init_pixel()
        structlog.configure(processors=[
            structlog.processors.add_log_level,
            PixelProcessor(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ])
        log = structlog.get_logger()

        def settle(invoice):
            raise LookupError(f"no invoice {invoice}")

        try:
            settle(12)
        except LookupError:
            log.exception("settlement failed")
            raise
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 1
    assert "LookupError: no invoice 12" in result.stderr
    assert '"event": "settlement failed"' in result.stdout
    (event,) = collector.wait_for(1)
    assert len(collector.received) == 1  # the process has exited: nothing else is coming
    assert event["level"] == "error" and event["type"] == "LookupError"
    assert event["message"] == "settlement failed: no invoice 12"
    assert [f["fn"] for f in event["stack"]] == ["settle", "<module>"]
    assert event["stack"][0]["file"] == "app.py"


# -- the example -------------------------------------------------------------------


def test_example_app_runs_both_setups(tmp_path: Path, collector: Any) -> None:
    result = run_script(tmp_path, EXAMPLE.read_text(), ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    arrived = collector.wait_for(4)
    assert len(collector.received) == 4
    for event in arrived:
        assert_valid(event)
    by_setup: Dict[str, List[Dict[str, Any]]] = {}
    for event in arrived:
        by_setup.setdefault(event["context"]["setup"], []).append(event)
    assert sorted(by_setup) == ["pure", "stdlib"]
    for setup, (failure, warning) in by_setup.items():
        assert failure["type"] == "KeyError", setup
        assert failure["stack"][0]["fn"] == "price_of"
        assert failure["context"]["request_id"].startswith("req-")
        assert warning["type"] == "LogMessage" and warning["level"] == "warning"
        assert warning["message"] == "stock low"
    assert '"event": "checkout failed"' in result.stdout
