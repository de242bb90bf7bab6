"""Answers that no retry can change: redirects, 404, the group cap; never retried nor followed."""

from typing import Any, Dict

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer, RawServer

pytestmark = pytest.mark.usefixtures("closing")


def answer(status: int, reason: str, headers: Dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join([*lines, "content-length: 0", "", ""])).encode()


@pytest.mark.parametrize(
    "status, reason",
    [(301, "Moved Permanently"), (302, "Found"), (307, "Temporary Redirect"),
     (308, "Permanent Redirect")],
)  # fmt: skip
def test_a_redirect_is_never_followed_nor_retried(capfd: Any, status: int, reason: str) -> None:
    with FaultServer() as elsewhere:
        redirect = answer(status, reason, {"location": elsewhere.ingest_url})
        with RawServer([(redirect, False), (redirect, False), (redirect, False)]) as server:
            ez_pixel.init_pixel(KEY, server.ingest_url)
            ez_pixel.report_pixel("first")
            ez_pixel.report_pixel("second")
            assert ez_pixel.flush_pixel(10)
            assert [body["message"] for body in server.bodies()] == ["first", "second"]
        assert elsewhere.bodies() == []  # the location was never followed
    stats = ez_pixel.stats()
    assert stats["dropped"] == {f"rejected_{status}": 2} and stats["retried"] == 0
    warnings = [line for line in capfd.readouterr().err.splitlines() if "ez-pixel" in line]
    assert len(warnings) == 1 and KEY not in warnings[0]


def test_a_404_is_never_retried_and_says_where(capfd: Any) -> None:
    with FaultServer([404, 404, 404]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("first")
        ez_pixel.report_pixel("second")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
        url = server.ingest_url
    stats = ez_pixel.stats()
    assert stats["dropped"] == {"rejected_404": 2} and stats["retried"] == 0
    warnings = [line for line in capfd.readouterr().err.splitlines() if "ez-pixel" in line]
    assert len(warnings) == 1 and url in warnings[0], warnings


def test_the_group_cap_refusal_is_not_retried_and_known_groups_still_go(capfd: Any) -> None:
    body = b'{"error":"project fingerprint cap reached"}'
    capped = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    with RawServer([(capped, False)]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("a new group")
        ez_pixel.report_pixel("a known group")
        assert ez_pixel.flush_pixel(10)
        assert [b["message"] for b in server.bodies()] == ["a new group", "a known group"]
    stats = ez_pixel.stats()
    assert stats["dropped"] == {"rejected_429": 1} and stats["retried"] == 0 and stats["sent"] == 1
    assert "cap of error groups" in capfd.readouterr().err


def test_one_warning_per_cause_naming_the_masked_key(capfd: Any) -> None:
    with FaultServer([401, 401, 400, 400]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        for number in range(4):
            ez_pixel.report_pixel(f"event {number}")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 4
    warnings = [line for line in capfd.readouterr().err.splitlines() if "ez-pixel" in line]
    assert len(warnings) == 2, warnings  # two causes, two warnings
    assert f"does not know project key {KEY[:10]}…" in warnings[0] and KEY not in warnings[0]
    assert "malformed" in warnings[1]
