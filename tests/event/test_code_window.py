"""The code window, read the way the fix agent numbers it, marks the failing line."""

import json
import tempfile
from pathlib import Path
from typing import Any, Dict

from hypothesis import given, settings
from hypothesis import strategies as st

from ez_pixel._capture.capture import exception_capture
from ez_pixel._event.event import EventBuilder
from ez_pixel._event.fit import _narrow_context, encode
from ez_pixel.options import make_options
from helpers import KEY, agent_line

FAILING = "raise ValueError('here')"


def _event_for(root: Path, total: int, position: int, context_lines: int) -> Dict[str, Any]:
    """The event for a file of ``total`` lines whose line ``position`` raises."""
    lines = [f"x{n} = {n}" for n in range(1, total + 1)]
    lines[position - 1] = FAILING
    path = root / f"f{total}_{position}.py"
    path.write_text("\n".join(lines) + ("\n" if position % 2 else ""))  # with and without
    code = compile(path.read_text(), str(path), "exec")
    try:
        exec(code, {"__name__": "windowed"})
    except ValueError as exc:
        capture = exception_capture(exc, "error")
    assert capture is not None
    options = make_options(
        KEY, "http://127.0.0.1:9/ingest", project_root=str(root), context_lines=context_lines
    )
    event: Dict[str, Any] = EventBuilder(options).build(capture)
    return event


@settings(max_examples=120, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=40),
    data=st.data(),
    context_lines=st.integers(min_value=0, max_value=7),
)
def test_failing_line_is_marked_at_every_position(
    total: int, data: Any, context_lines: int
) -> None:
    position = data.draw(st.integers(min_value=1, max_value=total))
    with tempfile.TemporaryDirectory() as directory:
        event = _event_for(Path(directory), total, position, context_lines)
    context = event["code_context"]
    assert context["error_line"] == position
    assert agent_line(context) == FAILING
    assert len(context["lines"]) <= 2 * context_lines + 1
    # the window is as wide as the file allows on the tighter side
    assert (len(context["lines"]) - 1) // 2 == min(context_lines, position - 1, total - position)


def test_first_last_one_line_and_short_files(tmp_path: Path) -> None:
    for total, position in ((1, 1), (2, 1), (2, 2), (3, 1), (3, 3), (100, 1), (100, 100), (100, 2)):
        context = _event_for(tmp_path, total, position, 5)["code_context"]
        assert agent_line(context) == FAILING, (total, position, context)


def test_window_narrowed_to_fit_the_body_cap_still_marks_the_line(tmp_path: Path) -> None:
    for position in (1, 2, 3, 10, 19, 20):
        event = _event_for(tmp_path, 20, position, 5)
        event["padding"] = "p" * 70_000  # forces the trims: extras, then the window's width
        event["stack"] = event["stack"] * 2000
        sent = json.loads(encode(event))
        assert agent_line(sent["code_context"]) == FAILING
        narrowed = dict(event, code_context=dict(event["code_context"]))
        _narrow_context(narrowed)  # the trim that runs when the stack alone is not enough
        assert agent_line(narrowed["code_context"]) == FAILING
        assert len(narrowed["code_context"]["lines"]) <= 5
