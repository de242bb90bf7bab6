"""report_pixel with unusual arguments still gives its event."""

from typing import Any

import ez_pixel


def test_report_pixel_with_an_error_and_a_message_that_is_not_a_string(
    pixel: Any, events: Any
) -> None:
    # Found by the fuzz: the message was assumed to be a str when an error came with it.
    pixel()
    try:
        int("kiwi")
    except ValueError as exc:
        event_id = ez_pixel.report_pixel(404, error=exc)  # type: ignore[arg-type]
    assert event_id is not None
    (event,) = events(1)
    assert event["event_id"] == event_id and event["type"] == "ValueError"
    assert event["message"] == "404: invalid literal for int() with base 10: 'kiwi'"
    assert ez_pixel.stats()["internal_errors"] == 0


def test_report_pixel_with_a_raised_error_sends_that_traceback(pixel: Any, events: Any) -> None:
    # A mutation that took the stack of the report_pixel call instead survived the suite.
    def lookup() -> None:
        {}["missing"]  # the innermost frame

    pixel()
    try:
        lookup()
    except KeyError as exc:
        ez_pixel.report_pixel("lookup failed", error=exc)
    (event,) = events(1)
    functions = [frame["fn"] for frame in event["stack"]]
    assert len(functions) == 2, functions  # the traceback's two frames, nothing of the caller's
    assert functions[0].endswith("lookup")
    assert functions[1] == "test_report_pixel_with_a_raised_error_sends_that_traceback"
