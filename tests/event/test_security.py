"""Secrets are scrubbed, before_send and sample_rate work, warnings never leak keys."""

import logging
import sys
import uuid
from typing import Any, Dict, Optional

import pytest

import ez_pixel
from ez_pixel.options import make_options
from helpers import KEY, assert_valid

log = logging.getLogger("tests.security")


def connect(dsn: str, api_key: str) -> None:
    API_KEY = "sk_test_0123456789abcdef"  # noqa: F841  (a literal secret in the context lines)
    raise ConnectionError(f"cannot connect to {dsn} with api_key={api_key}")


def test_secrets_are_scrubbed_and_the_failing_line_kept(pixel: Any, events: Any) -> None:
    pixel()
    try:
        connect("postgres://app:s3cr3t@db:5432/shop", "abc123")
    except ConnectionError:
        log.exception("login failed password=hunter2 Authorization: Bearer abcdefgh.ijkl")
    (event,) = events(1)
    assert_valid(event)
    message = event["message"]
    for secret in ("s3cr3t", "abc123", "hunter2", "abcdefgh.ijkl"):
        assert secret not in message
    assert "password=[Filtered]" in message and "postgres://app:[Filtered]@db" in message
    lines = event["code_context"]["lines"]
    assert not any("sk_test_0123456789abcdef" in line for line in lines)
    assert any('API_KEY = "[Filtered]"' in line for line in lines)
    failing = lines[event["code_context"]["error_line"] - event["code_context"]["start_line"]]
    assert failing.strip().startswith('raise ConnectionError(f"cannot connect to {dsn}')


def test_well_known_key_formats_and_private_keys(pixel: Any, events: Any) -> None:
    pixel()
    log.error(
        "leaked AKIAIOSFODNN7EXAMPLE and sk_live_4eC39HqLyjWDarjtT1zdp7dc and "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- end"
    )
    (event,) = events(1)
    assert "AKIA" not in event["message"] and "sk_live_4eC" not in event["message"]
    assert "MIIEpAIBAAKCAQEA" not in event["message"] and event["message"].endswith(" end")


def test_scrubbing_rules_can_be_added_and_turned_off(pixel: Any, events: Any) -> None:
    pixel(scrub_keys=["ssn"], scrub_patterns=[r"\bORDER-\d+\b"])
    log.error("customer ssn=123-45-6789 order ORDER-77 password=x")
    ez_pixel.close_pixel()
    pixel(scrub=False)
    log.error("raw password=visible")
    first, second = events(2)
    assert first["message"] == "customer ssn=[Filtered] order [Filtered] password=[Filtered]"
    assert second["message"] == "raw password=visible"


def add_team(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if "ignore me" in event["message"]:
        return None
    if "explode" in event["message"]:
        raise RuntimeError("hook bug")
    if "bad level" in event["message"]:
        event["level"] = "info"
        return event
    event["team"] = "payments"
    event["message"] = event["message"].upper()
    return event


@pytest.mark.parametrize("hook", [add_team, "test_security:add_team"])
def test_before_send_edits_drops_and_survives_its_own_bugs(
    pixel: Any, collector: Any, capfd: Any, hook: Any
) -> None:
    pixel(before_send=hook)
    for message in ("ignore me", "explode", "bad level", "explode", "kept"):
        log.error(message)
    assert ez_pixel.flush_pixel(10)
    (event,) = collector.wait_for(1)
    assert event["message"] == "KEPT" and event["team"] == "payments"
    dropped = ez_pixel.stats()["dropped"]
    assert dropped == {"before_send": 1, "before_send_error": 2, "before_send_invalid": 1}
    err = capfd.readouterr().err
    assert err.count("before_send raised") == 1


def test_sample_rate(pixel: Any, collector: Any) -> None:
    pixel(sample_rate=0.0)
    for i in range(20):
        log.error("sampled %d", i)
    assert ez_pixel.flush_pixel(5)
    assert collector.received == []
    assert ez_pixel.stats()["dropped"] == {"sampled": 20}
    with pytest.raises(ValueError, match="sample_rate"):
        make_options(KEY, "http://127.0.0.1:1/ingest", sample_rate=1.5)


def test_plain_http_to_a_remote_host_warns_once(capfd: Any) -> None:
    make_options(KEY, "http://127.0.0.1:1/ingest")
    assert capfd.readouterr().err == ""
    host = f"pixel-{uuid.uuid4().hex[:8]}.example.invalid"  # said once per process: a new host
    make_options(KEY, f"http://{host}/ingest")
    make_options(KEY, f"http://{host}/ingest")
    err = capfd.readouterr().err
    assert err.count("plain http") == 1 and KEY not in err


def test_chained_exceptions_are_described(pixel: Any, events: Any) -> None:
    pixel()
    try:
        try:
            {}["config"]
        except KeyError as exc:
            raise RuntimeError("startup failed") from exc
    except RuntimeError:
        log.exception("boot")
    (event,) = events(1)
    assert event["type"] == "RuntimeError"
    (cause,) = event["causes"]
    assert cause["type"] == "KeyError" and cause["message"] == "'config'"
    assert cause["file"] == "tests/event/test_security.py" and cause["line"] > 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is new in Python 3.11")
def test_exception_group_lists_its_members(pixel: Any, events: Any) -> None:
    pixel()
    group = __builtins__["ExceptionGroup"] if isinstance(__builtins__, dict) else ExceptionGroup  # type: ignore[name-defined]  # noqa: F821
    try:
        raise group("two tasks failed", [ValueError("bad input"), KeyError("missing")])
    except Exception:
        log.exception("gather")
    (event,) = events(1)
    assert event["type"] == "ExceptionGroup"
    assert "ValueError: bad input; KeyError: 'missing'" in event["message"]


def test_keyboard_interrupt_logged_on_purpose_is_reported(pixel: Any, events: Any) -> None:
    pixel()
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        log.exception("operator stopped the import")
    (event,) = events(1)
    assert event["type"] == "KeyboardInterrupt"


def test_collector_survives_junk_and_still_serves_honest_clients(collector: Any) -> None:
    import json
    import socket
    import urllib.request

    from conftest import make_event

    host, port = "127.0.0.1", collector.port
    slow = [socket.create_connection((host, port)) for _ in range(5)]
    for sock in slow:  # slow-loris: half a request line each, then silence
        sock.sendall(b"POST /ingest HTTP/1.1\r\nContent-Le")
    junk = [
        b"\x00\xff\x16\x03\x01 not http at all\r\n\r\n",
        b"POST /ingest HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /ingest HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"GET /api/errors/1%27%20OR%201=1-- HTTP/1.1\r\n\r\n",
        b'POST /ingest HTTP/1.1\r\nContent-Length: 9\r\n\r\n{"a": [[[',
    ]
    for payload in junk:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(payload)
            sock.recv(4096)
    sneaky = make_event(message="'); DROP TABLE groups; --", type="<script>alert(1)</script>")
    request = urllib.request.Request(
        collector.ingest_url,
        data=json.dumps(sneaky).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200
    project = collector.store.ensure_key(sneaky["project_key"])
    listing = urllib.request.Request(
        f"{collector.url}/api/projects/{project['id']}/errors",
        headers={"authorization": f"Bearer {project['secret']}"},
    )
    with urllib.request.urlopen(listing, timeout=5) as answer:
        (group,) = json.loads(answer.read())["errors"]
    assert group["message"] == "'); DROP TABLE groups; --"
    assert group["type"] == "<script>alert(1)</script>"
    for sock in slow:
        sock.close()


PEM_BODY = [
    "MIIEowIBAAKCAQEA7bq9c3ZkVb2Jq8k1XqvF0u9wYbRk4m2HqZP7nT6sLw0aYp3Q",
    "xUe2Vn9Gk4Rf1Wc8Ld3Sa7Pq0Zy5Tb6Mh2Nj9Kr4Fs1Gu8Iv3Ow7Ex0Ct5By2Az6D",
    "Hq9Jp4Lm7Nn2Oo5Pp8Qq1Rr4Ss7Tt0Uu3Vv6Ww9Xx2Yy5Zz8Aa1Bb4Cc7Dd0Ee3F",
]


@pytest.mark.parametrize(("raise_after", "context_lines"), [(1, 3), (2, 3), (1, 6)])
def test_a_private_key_block_in_the_code_window_is_filtered_line_by_line(
    pixel: Any, events: Any, tmp_path: Any, raise_after: int, context_lines: int
) -> None:
    """Each line of a PEM block is filtered, even when the window shows only its middle."""
    source = [
        "def load():",
        '    KEY = """-----BEGIN RSA PRIVATE KEY-----',
        *PEM_BODY,
        '-----END RSA PRIVATE KEY-----"""',
        *(["    pass"] * (raise_after - 1)),
        "    raise ValueError('bad key')",
        *(["", "def other():", "    return 1", "", "x = 1", "y = 2"]),
    ]
    path = tmp_path / f"keyed_{raise_after}_{context_lines}.py"
    path.write_text("\n".join(source) + "\n")
    namespace: Dict[str, Any] = {"__name__": "keyed"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    pixel(context_lines=context_lines)
    try:
        namespace["load"]()
    except ValueError:
        log.exception("key failed")
    (event,) = events(1)
    context = event["code_context"]
    text = "\n".join(context["lines"])
    assert not any(body[:16] in text for body in PEM_BODY), context["lines"]
    assert "PRIVATE KEY" not in text
    failing_at = context["error_line"] - context["start_line"]
    assert context["lines"][failing_at].strip() == "raise ValueError('bad key')"
    assert failing_at == min(context_lines, raise_after + 5)  # the window keeps its shape


def test_a_pem_parser_keeps_its_code_in_the_window(pixel: Any, events: Any, tmp_path: Any) -> None:
    """The markers a parser compares against hide nothing but themselves."""
    source = [
        'BEGIN = "-----BEGIN RSA PRIVATE KEY-----"',
        'END = "-----END RSA PRIVATE KEY-----"',
        "def parse(text):",
        "    lines = text.splitlines()",
        "    if lines[0] != BEGIN or lines[-1] != END:",
        "        raise ValueError('not a key')",
        "    return lines[1:-1]",
        "",
        "x = 1",
        "y = 2",
        "z = 3",
    ]
    path = tmp_path / "pem_parser.py"
    path.write_text("\n".join(source) + "\n")
    namespace: Dict[str, Any] = {"__name__": "pem_parser"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    pixel(context_lines=5)
    try:
        namespace["parse"]("hello")
    except ValueError:
        log.exception("parse failed")
    (event,) = events(1)
    lines = event["code_context"]["lines"]
    assert event["code_context"]["start_line"] == 1
    assert lines[2:] == source[2:]  # the code is all there
    assert lines[1] == 'END = "[Filtered]"'  # the markers themselves are filtered
    assert "PRIVATE KEY" not in lines[0]
