"""Chained exceptions (``__cause__``/``__context__``): described link by link, cycles once."""

import logging
from typing import Any, Dict, List, Optional

import pytest

import ez_pixel
from helpers import assert_valid

app_log = logging.getLogger("tests.causes.app")


def delivered(collector: Any, count: int) -> List[Dict[str, Any]]:
    """Flush, then every event the collector stored (at least ``count``), each valid."""
    assert ez_pixel.flush_pixel(10)
    events = collector.wait_for(count)
    for event in events:
        assert_valid(event)
    return events  # type: ignore[no-any-return]


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def reported_causes(pixel: Any, collector: Any, exc: BaseException) -> Optional[List[Any]]:
    pixel()
    app_log.error("chained", exc_info=exc)
    (event,) = delivered(collector, 1)
    assert event["type"] == type(exc).__name__
    return event.get("causes")


def test_a_cause_that_cycles_back_is_described_once(pixel: Any, collector: Any) -> None:
    first, second = ValueError("a"), KeyError("b")
    first.__cause__, second.__context__ = second, first  # first -> second -> first -> ...
    causes = reported_causes(pixel, collector, raised(first))
    assert causes is not None
    assert [(c["type"], c["message"]) for c in causes] == [("KeyError", "'b'")]


def test_a_cycle_further_down_the_chain_is_described_once(pixel: Any, collector: Any) -> None:
    top, middle, bottom = RuntimeError("top"), ValueError("middle"), KeyError("bottom")
    top.__cause__, middle.__cause__, bottom.__context__ = middle, bottom, middle
    causes = reported_causes(pixel, collector, raised(top))  # top -> middle -> bottom -> middle
    assert causes is not None
    assert [(c["type"], c["message"]) for c in causes] == [
        ("ValueError", "middle"),
        ("KeyError", "'bottom'"),
    ]


def test_an_exception_that_is_its_own_context_has_no_causes(pixel: Any, collector: Any) -> None:
    exc = raised(RuntimeError("itself"))
    exc.__context__ = exc
    assert reported_causes(pixel, collector, exc) is None


def where(exc: BaseException) -> Dict[str, Any]:
    """The innermost frame of ``exc``'s traceback, as the event describes it."""
    tb = exc.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return {"line": tb.tb_lineno, "fn": tb.tb_frame.f_code.co_name}


def test_a_real_chain_is_described_link_by_link(pixel: Any, collector: Any) -> None:
    def parse() -> None:
        int("kiwi")

    try:
        try:
            parse()
        except ValueError as bad_number:
            saved_number = bad_number
            {}["price"]  # a KeyError while handling it: __context__
    except KeyError as missing:
        saved_missing = missing
        try:
            raise RuntimeError("checkout failed") from missing
        except RuntimeError as final:
            top = final
    causes = reported_causes(pixel, collector, top)
    assert causes is not None
    assert [(c["type"], c["message"]) for c in causes] == [
        ("KeyError", "'price'"),
        ("ValueError", "invalid literal for int() with base 10: 'kiwi'"),
    ]
    for described, real in zip(causes, (saved_missing, saved_number)):
        assert described["file"] == "tests/capture/test_causes.py"
        assert {"line": described["line"], "fn": described["fn"].rsplit(".", 1)[-1]} == where(real)


def test_raise_from_none_has_no_causes(pixel: Any, collector: Any) -> None:
    try:
        try:
            {}["x"]
        except KeyError:
            raise ValueError("clean") from None
    except ValueError as exc:
        top = exc
    assert reported_causes(pixel, collector, top) is None


@pytest.mark.parametrize("length", [3, 6])
def test_a_long_chain_is_cut_to_three_causes(pixel: Any, collector: Any, length: int) -> None:
    top: BaseException = raised(OSError("cause 0"))
    for number in range(1, length + 1):
        outer = raised(OSError(f"cause {number}"))
        outer.__cause__ = top
        top = outer
    causes = reported_causes(pixel, collector, top)
    assert causes is not None
    assert [c["message"] for c in causes] == [f"cause {length - i}" for i in range(1, 4)]
