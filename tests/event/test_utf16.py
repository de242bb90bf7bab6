"""Every event fits the server's limits as the server counts them: UTF-16 code units."""

import json
import logging
from typing import Any, Callable, List, Tuple

import ez_pixel
from strict_server import StrictServer, js_length

log = logging.getLogger("tests.event.utf16")

Strict = Tuple[StrictServer, Callable[..., ez_pixel.Client]]


def _accepted(server: StrictServer, count: int) -> List[Any]:
    ez_pixel.flush_pixel(10)
    answers = server.wait_answers(count)
    assert [status for status, _, _ in answers] == [200] * count, [a[:2] for a in answers]
    return [event for _, _, event in answers]


def test_emoji_message_is_cut_in_utf16_units_and_accepted(strict: Strict) -> None:
    server, start = strict
    start()
    log.error("😀" * 5000)  # 10,000 units: cut as Python characters it would still be 8,190
    try:
        raise ValueError("𝄞" * 3000 + "tail")
    except ValueError:
        log.exception("é" * 10)
    first, second = _accepted(server, 2)
    assert 4000 < js_length(first["message"]) <= 4096
    assert first["message"].startswith("😀😀") and first["message"].endswith("…")
    assert js_length(second["message"]) <= 4096 and second["message"].startswith("éééé")


def test_lone_surrogates_become_replacement_characters(strict: Strict) -> None:
    server, start = strict
    start()
    try:
        try:
            raise KeyError("\udc80 inner \ud83d")
        except KeyError as exc:
            raise ValueError("bad \ud800 text \udfff end") from exc
    except ValueError:
        log.exception("logged \ud800")
    (event,) = _accepted(server, 1)
    assert "bad \ufffd text \ufffd end" in event["message"]
    assert event["message"].startswith("logged \ufffd")
    assert "\\udc80" in event["message"]  # the cause is quoted as Python's repr prints it


def test_type_and_runtime_are_cut_in_units(strict: Strict) -> None:
    server, start = strict
    start(runtime="python-" + "😀" * 28)  # 63 characters, 63 + 28 units
    wide = type("𠀀" * 200, (Exception,), {})  # a class name of 400 units
    try:
        raise wide("x")
    except Exception:
        log.exception("wide type")
    (event,) = _accepted(server, 1)
    assert js_length(event["type"]) <= 256 and event["type"].startswith("test_utf16.𠀀")
    assert js_length(event["runtime"]) <= 64 and event["runtime"].startswith("python-😀")


def test_everything_non_ascii_and_huge_still_fits_the_body_cap(strict: Strict) -> None:
    server, start = strict
    start(context_lines=50)

    def deep(n: int) -> None:
        if n:
            deep(n - 1)
        raise RuntimeError("🎉" * 2100)

    try:
        deep(150)
    except RuntimeError:
        log.exception("ü" * 5000, extra={"blob": "💥" * 30_000})
    (event,) = _accepted(server, 1)
    body = json.dumps(event, ensure_ascii=True, separators=(",", ":"))
    assert js_length(body) <= 65_536
    assert js_length(event["message"]) <= 4096
