"""What a failed try means: retry with the same id, wait, drop, give up."""

import time
from typing import Any

import pytest

import ez_pixel
from ez_pixel._delivery.answer import Answer
from ez_pixel._delivery.retry import Backoff
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer, free_port

pytestmark = pytest.mark.usefixtures("closing")


def test_transient_failures_are_retried_with_the_same_event_id() -> None:
    with FaultServer([503, {"status": 502}, 500, 200]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        event_id = ez_pixel.report_pixel("flaky server")
        assert ez_pixel.flush_pixel(10)
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == [event_id] * 4
    stats = ez_pixel.stats()
    assert stats["sent"] == 1 and stats["retried"] == 3 and stats["dropped"] == {}


def test_retry_after_is_honoured() -> None:
    with FaultServer([{"status": 429, "retry_after": 1}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        started = time.monotonic()
        ez_pixel.report_pixel("rate limited")
        assert ez_pixel.flush_pixel(10)
        elapsed = time.monotonic() - started
        assert len(server.bodies()) == 2
    assert elapsed >= 0.9  # the default first backoff would be 0.2 s


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_permanent_rejections_are_not_retried(capfd: Any, status: int) -> None:
    with FaultServer([status, status, status]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("first")
        ez_pixel.report_pixel("second")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    stats = ez_pixel.stats()
    assert stats["dropped"] == {f"rejected_{status}": 2} and stats["retried"] == 0
    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("ez-pixel:")]
    assert len(warnings) == 1, err  # one clear warning per cause, not per event
    assert KEY not in err


def test_retries_run_out_and_the_drop_is_counted() -> None:
    with FaultServer([503] * 3) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, max_retries=2)
        ez_pixel.report_pixel("gives up")
        ez_pixel.report_pixel("next one lands")
        assert ez_pixel.flush_pixel(10)
        assert [b["message"] for b in server.bodies()] == ["gives up"] * 3 + ["next one lands"]
    assert ez_pixel.stats()["dropped"] == {"retries_exhausted": 1}


def test_flush_without_timeout_gives_up_on_a_server_that_is_down() -> None:

    ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{free_port()}/ingest", max_retries=2)
    ez_pixel.report_pixel("nobody listens")
    started = time.monotonic()
    assert ez_pixel.flush_pixel() is False  # no hang: 3 failed probes (0.2 + 0.4 s of backoff)
    assert time.monotonic() - started < 5
    assert ez_pixel.stats()["pending"] == 1  # still queued, not dropped


def test_outage_backs_off_as_a_whole_and_drains_in_order() -> None:
    port = free_port()
    ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{port}/ingest", max_retries=2)
    ids = [ez_pixel.report_pixel(f"during outage {i}") for i in range(30)]
    deadline = time.monotonic() + 10
    while ez_pixel.stats()["retried"] < 4 and time.monotonic() < deadline:
        time.sleep(0.05)  # let the outage last through a few backoff rounds
    with FaultServer(port=port) as server:
        assert ez_pixel.flush_pixel(15)
        bodies = server.bodies()
    assert [b["event_id"] for b in bodies] == ids  # in order, each once
    stats = ez_pixel.stats()
    assert stats["dropped"] == {}  # an unreachable server spends no event's retry budget
    assert stats["retried"] < 12  # one probe at a time, not one per queued event


@pytest.mark.parametrize(
    ("answer", "before", "verdict", "after"),
    [
        (Answer(200, "{}"), 0, "sent", 0),
        (Answer(202, ""), 3, "sent", 3),
        (Answer(401, "unknown key"), 0, "rejected", 0),
        (Answer(413, ""), 2, "rejected", 2),
        (Answer(301, ""), 0, "rejected", 0),
        (Answer(429, "fingerprint cap reached"), 0, "rejected", 0),
        (Answer(429, "fingerprint cap reached", retry_after=2.0), 0, "retry", 1),
        (Answer(429, "slow down"), 0, "retry", 1),
        (Answer(503, ""), 0, "retry", 1),
        (Answer(500, ""), 5, "retries_exhausted", 6),
        (Answer(0, "", failure="tls", error="bad cert"), 0, "tls_untrusted", 0),
        (Answer(0, "", failure="unreachable", error="refused"), 4, "unreachable", 4),
        (Answer(0, "", failure="failed", error="reset"), 0, "retry", 1),
    ],
)
def test_the_policy_says_what_an_answer_means(
    answer: Answer, before: int, verdict: str, after: int
) -> None:
    # Only a server that saw the body spends its budget (max_retries=5 by default).
    assert Backoff().classify(answer, before) == (verdict, after)


def test_waits_double_up_to_the_cap_and_retry_after_is_bounded() -> None:
    policy = Backoff()
    assert [policy.delay(n) for n in range(1, 6)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2])
    assert policy.delay(50) == policy.max_delay
    assert policy.delay(1, retry_after=3600) == policy.max_retry_after
    assert policy.delay(1, retry_after=0) == 0
