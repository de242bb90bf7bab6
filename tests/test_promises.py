"""README promises about delivery, sampling and the spool, each against a real server."""

import json
import logging
import math
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import ez_pixel
from faults import BlackHole, FaultServer, RawServer, free_port
from helpers import KEY


@pytest.fixture
def closing() -> Iterator[None]:
    yield
    ez_pixel.close_pixel(timeout=1)


def answer(status: int, reason: str, headers: Dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join([*lines, "content-length: 0", "", ""])).encode()


@pytest.mark.parametrize(
    "status, reason",
    [(301, "Moved Permanently"), (302, "Found"), (307, "Temporary Redirect"),
     (308, "Permanent Redirect")],
)  # fmt: skip
def test_a_redirect_is_never_followed_nor_retried(
    closing: None, capfd: Any, status: int, reason: str
) -> None:
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


def test_a_404_is_never_retried_and_says_where(closing: None, capfd: Any) -> None:
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


def test_retry_after_is_capped_at_sixty_seconds(closing: None, capfd: Any) -> None:
    with FaultServer([{"status": 503, "retry_after": 100000}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("rate limited for a day")
        assert ez_pixel.flush_pixel(1.0) is False  # waiting, not retrying at once
        assert len(server.bodies()) == 1
        assert ez_pixel.stats()["retried"] == 1
        ez_pixel.close_pixel(timeout=0.2)  # close wakes the wait
    err = capfd.readouterr().err
    waits = [line for line in err.splitlines() if "backing off" in line]
    assert waits == ["ez-pixel: backing off 60.0s"], err


def test_a_short_retry_after_is_used_as_given(closing: None, capfd: Any) -> None:
    with FaultServer([{"status": 429, "retry_after": 2.5}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("rate limited briefly")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    waits = [line for line in capfd.readouterr().err.splitlines() if "backing off" in line]
    assert waits == ["ez-pixel: backing off 2.5s"]


def test_without_retry_after_the_backoff_doubles(closing: None, capfd: Any) -> None:
    with FaultServer([503, 503, 503]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, debug=True)
        ez_pixel.report_pixel("flaky")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 4
    waits = [line for line in capfd.readouterr().err.splitlines() if "backing off" in line]
    assert waits == [f"ez-pixel: backing off {s}s" for s in ("0.2", "0.4", "0.8")]


def sampled(collector: Any, rate: float, count: int) -> int:
    """How many of ``count`` distinct reports arrived with ``sample_rate=rate``."""
    ez_pixel.init_pixel(KEY, collector.ingest_url, sample_rate=rate, queue_size=count * 2)
    try:
        ids = [ez_pixel.report_pixel(f"event {n}") for n in range(count)]
        assert ez_pixel.flush_pixel(20)
        arrived = collector.accepted()
        kept = [event_id for event_id in ids if event_id is not None]
        assert sorted(event["event_id"] for event in arrived) == sorted(kept)
        stats = ez_pixel.stats()
        assert stats["dropped"].get("sampled", 0) == count - len(kept)
        return len(kept)
    finally:
        ez_pixel.close_pixel(timeout=1)


def test_a_fractional_sample_rate_sends_about_that_fraction(collector: Any) -> None:
    count, rate = 400, 0.5
    arrived = sampled(collector, rate, count)
    spread = 5 * math.sqrt(count * rate * (1 - rate))  # 5 sigma: fails about once in 2 million
    assert count * rate - spread <= arrived <= count * rate + spread, arrived


@pytest.mark.parametrize("rate, expected", [(0.0, 0), (1.0, 60)])
def test_sample_rate_zero_sends_nothing_and_one_sends_everything(
    collector: Any, rate: float, expected: int
) -> None:
    assert sampled(collector, rate, 60) == expected


def spooled(directory: Path) -> List[Dict[str, Any]]:
    """The events waiting in the spool directory, oldest first."""
    names = sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    return [json.loads((directory / name).read_text()) for name in names]


def spool_while_unreachable(tmp_path: Path, count: int, **options: Any) -> List[str]:
    """Report ``count`` events to a server that is down, with a spool; their ids."""
    url = f"http://127.0.0.1:{free_port()}/ingest"
    ez_pixel.init_pixel(KEY, url, spool_dir=str(tmp_path), **options)
    try:
        ids = [ez_pixel.report_pixel(f"while down {n:02d}") for n in range(count)]
    finally:
        ez_pixel.close_pixel(timeout=2)
    assert None not in ids
    return ids  # type: ignore[return-value]


def test_the_spool_keeps_only_the_newest_spool_max_events(tmp_path: Path) -> None:
    ids = spool_while_unreachable(tmp_path, 10, spool_max_events=3)
    assert [event["event_id"] for event in spooled(tmp_path)] == ids[-3:]


def test_the_spool_keeps_only_the_newest_within_spool_max_bytes(tmp_path: Path) -> None:
    (tmp_path / "probe").mkdir()
    spool_while_unreachable(tmp_path / "probe", 1)
    (one,) = [p.stat().st_size for p in (tmp_path / "probe").iterdir()]
    limit = int(3.5 * one)  # room for three events of this size
    (tmp_path / "bounded").mkdir()
    ids = spool_while_unreachable(tmp_path / "bounded", 10, spool_max_bytes=limit)
    waiting = spooled(tmp_path / "bounded")
    sizes = [p.stat().st_size for p in (tmp_path / "bounded").iterdir()]
    assert len(waiting) == 3, (one, sizes)
    assert 0 < len(waiting) < 10 and sum(sizes) <= limit
    assert sum(sizes) + min(sizes) > limit  # nothing more would have fitted (same-size events)
    assert [event["event_id"] for event in waiting] == ids[-len(waiting) :]


def test_evicted_events_are_never_sent_and_the_rest_are_sent_first(
    tmp_path: Path, collector: Any
) -> None:
    ids = spool_while_unreachable(tmp_path, 6, spool_max_events=2)
    ez_pixel.init_pixel(KEY, collector.ingest_url, spool_dir=str(tmp_path))
    try:
        later = ez_pixel.report_pixel("after the outage")
        assert ez_pixel.flush_pixel(10)
    finally:
        ez_pixel.close_pixel(timeout=1)
    assert [event["event_id"] for event in collector.accepted()] == [*ids[-2:], later]
    assert spooled(tmp_path) == []


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


class Counted(Exception):
    """An exception, and a log argument, that count how often their text is read."""

    reads = 0

    def __str__(self) -> str:
        Counted.reads += 1
        return "counted"


@pytest.mark.parametrize("path", ["logging", "report_pixel"])
def test_a_flooding_error_is_dropped_before_anything_else_is_gathered(
    closing: None, path: str
) -> None:
    Counted.reads = 0
    log = logging.Logger("tests.promises.hot_loop")  # no root, no pytest capture: only ez-pixel
    log.addHandler(ez_pixel.PixelHandler())
    with BlackHole() as hole:  # the first event stays in flight: the queue does not drain
        ez_pixel.init_pixel(KEY, hole.ingest_url, queue_size=10, read_timeout=5)
        for _ in range(50):
            try:
                raise Counted()
            except Counted as exc:
                if path == "logging":
                    log.error("hot loop %s", Counted(), exc_info=True)
                else:
                    ez_pixel.report_pixel("hot loop", error=exc)
        stats = ez_pixel.stats()
    assert stats["queued"] + stats["dropped"]["flood"] == 50, stats  # type: ignore[operator]
    assert stats["queued"] <= 2  # a tenth of the queue, plus the one in flight
    reads_per_event = 2 if path == "logging" else 1  # the message's argument, the exception
    assert Counted.reads == reads_per_event * stats["queued"]  # dropped ones were never read


def test_options_given_as_strings_as_dict_config_passes_them(closing: None) -> None:
    with FaultServer([503, 503]) as server:
        ez_pixel.init_pixel(
            KEY,
            server.ingest_url,
            max_retries="1",
            sample_rate="1.0",
            scrub_keys="ssn, iban",
            debug="0",
            runtime="python-custom",
        )
        ez_pixel.report_pixel("lookup failed ssn=123-45-6789 iban=DE89370400440532013000")
        ez_pixel.report_pixel("next")
        assert ez_pixel.flush_pixel(10)
        first, retry, second = server.bodies()
    assert first["message"] == "lookup failed ssn=[Filtered] iban=[Filtered]"
    assert retry["event_id"] == first["event_id"] and second["message"] == "next"
    assert first["runtime"] == "python-custom"
    assert ez_pixel.stats()["dropped"] == {"retries_exhausted": 1}


def test_pixel_debug_in_the_environment_turns_debug_on(
    closing: None, capfd: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PIXEL_DEBUG", "1")
    with FaultServer() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("say it")
        assert ez_pixel.flush_pixel(10)
    err = capfd.readouterr().err
    assert "ez-pixel: sent" in err and "200" in err and KEY not in err


def test_the_group_cap_refusal_is_not_retried_and_known_groups_still_go(
    closing: None, capfd: Any
) -> None:
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


def test_init_starts_a_daemon_worker_and_nothing_touches_the_network_before_an_error(
    closing: None,
) -> None:
    with FaultServer() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        workers = [t for t in threading.enumerate() if t.name == "ez-pixel-worker"]
        assert len(workers) == 1 and workers[0].daemon
        ez_pixel.flush_pixel(1)
        assert server.connections == 0
        for number in range(5):
            ez_pixel.report_pixel(f"error {number}")
        assert ez_pixel.flush_pixel(10)
        assert [body["message"] for body in server.bodies()] == [f"error {n}" for n in range(5)]
        assert server.connections == 1  # one kept-alive connection, events in order


SECRETS = [
    ("Password=hunter2", "hunter2"),
    ("passwd: hunter3", "hunter3"),
    ("db_pwd=hunter4", "hunter4"),
    ('{"client_secret": "s3cr3t-value"}', "s3cr3t-value"),
    ("X-Auth-Token=tok_abcdef", "tok_abcdef"),
    ("api_key=ak_123456", "ak_123456"),
    ("APIKEY: ak_654321", "ak_654321"),
    ("aws_access_key=abcdefgh1", "abcdefgh1"),
    ("private_key='pk-material'", "pk-material"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("cookie=sessionid42", "sessionid42"),
    ("SESSION=abc-session-9", "abc-session-9"),
    ("credential=cred-7", "cred-7"),
    ("SENTRY_DSN=https://k@o1.ingest.example/5", "k@o1.ingest.example"),
    ("sent Bearer abcdefghijklmnop123 upstream", "abcdefghijklmnop123"),
    ("-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBg\n-----END PRIVATE KEY-----", "MIIBVgIBADANBg"),
    ("id AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("key rk_live_51HabcdefGHIJ used", "rk_live_51HabcdefGHIJ"),
    ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 used", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
    ("slack xoxb-123456789012-abcdefghij used", "xoxb-123456789012"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9",
    ),
    ("connect postgres://app:pa55word@db.internal/shop failed", "pa55word"),
]


@pytest.mark.parametrize("text, secret", SECRETS)
def test_each_documented_secret_shape_is_filtered(
    pixel: Any, events: Any, text: str, secret: str
) -> None:
    pixel()
    logging.getLogger("tests.promises.secrets").error("before %s after", text)
    (event,) = events(1)
    assert secret not in event["message"] and "[Filtered]" in event["message"]
    assert event["message"].startswith("before ") and event["message"].endswith(" after")


class RawBodies(BaseHTTPRequestHandler):
    """Records each request body as bytes and answers 200."""

    protocol_version = "HTTP/1.1"
    bodies: List[bytes] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        RawBodies.bodies.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_the_json_body_is_ascii(closing: None) -> None:
    RawBodies.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RawBodies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{server.server_address[1]}/ingest")
        ez_pixel.report_pixel("naïve café \U0001f600 \udcff")
        assert ez_pixel.flush_pixel(10)
    finally:
        server.shutdown()
        server.server_close()
    (body,) = RawBodies.bodies
    assert body.isascii()
    message = json.loads(body)["message"]
    assert message.startswith("naïve café \U0001f600 ") and message.endswith("\ufffd")
