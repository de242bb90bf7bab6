"""The fingerprint's locator is the failing statement's first line, whatever line Python reports."""

from pathlib import Path

from ez_pixel._event.frames import FrameResolver
from ez_pixel._event.statements import logical_starts

SOURCE = """import os


def total(
    items,
    discount,
):
    return sum(items) / (  # 3.11+ reports this line
        discount
        - discount  # older Pythons may report this one
    )


@decorated
def other():
    value = {"a": 1,
             "b": 2}; return value["c"]
"""


def test_every_line_of_a_statement_locates_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "calc.py"
    path.write_text(SOURCE)
    code = compile(SOURCE, str(path), "exec")
    resolver = FrameResolver(str(tmp_path))
    texts = {line: resolver.line_text((code, line, 0, {})) for line in range(1, 18)}
    assert {texts[n] for n in (8, 9, 10, 11)} == {
        "return sum(items) / (  # 3.11+ reports this line"
    }
    assert {texts[n] for n in (4, 5, 6, 7)} == {"def total("}
    assert texts[16] == texts[17] == 'value = {"a": 1,'
    assert texts[14] == "@decorated" and texts[15] == "def other():"


def test_text_that_does_not_tokenize_falls_back_to_the_reported_line() -> None:
    assert logical_starts("def broken(:\n    x = (\n") is None
    assert logical_starts("x = 1\ny = (2,\n 3)\n") == [1, 2]
