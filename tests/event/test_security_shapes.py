"""Scrubbing measured: common secret shapes caught, harmless look-alikes kept, in four channels.

Each secret and each look-alike goes through the whole SDK to a real
collector in four channels: a report's message, an exception's text, a
structlog value, and a source line in ``code_context``. The test prints
recall and false positives per channel (``pytest -s``), then requires every
secret caught and every look-alike intact.
"""

import importlib
import io
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import pytest
import structlog

import ez_pixel
from ez_pixel.structlog import PixelProcessor


def _fill(size: int, alphabet: str = "aB3cD5eF7gH9jK2mN4pQ6rS8tV0wX1yZ") -> str:
    """A deterministic random-looking string of ``size`` characters."""
    return "".join(alphabet[(i * 7 + size) % len(alphabet)] for i in range(size))


HEX = "0123456789abcdef"


class Secret(NamedTuple):
    """A secret in a text, in a source line, and as a structlog key/value."""

    text: str
    code: str
    leaks: Tuple[str, ...]  # none of these may remain
    kv: Optional[Tuple[str, str]] = None  # structlog: logged as key=value (else detail=text)


def token(value: str, context: str = "upstream refused {}") -> Secret:
    return Secret(context.format(value), f'value = "{value}"', (value,))


def keyed(key: str, value: str) -> Secret:
    return Secret(
        f"config error {key}={value} at startup", f'{key} = "{value}"', (value,), (key, value)
    )


PEM = "-----BEGIN {kind}PRIVATE KEY-----\\nMIIEowIBAAKCAQEA7bq9\\n-----END {kind}PRIVATE KEY-----"

SECRETS: Dict[str, Secret] = {
    "url-empty-user": token("redis://:s3cretpw@cache:6379/0", "cannot reach {}"),
    "url-postgres": Secret(
        "cannot reach postgres://app:pgPa55word@db/shop",
        'DSN_URL = "postgres://app:pgPa55word@db/shop"',
        ("pgPa55word",),
    ),
    "url-amqp": Secret(
        "broker amqp://guest:rabbitPW9@mq:5672 down",
        'broker = "amqp://guest:rabbitPW9@mq:5672"',
        ("rabbitPW9",),
    ),
    "password": keyed("password", "hunter2"),
    "db-password": keyed("DB_PASSWORD", "Tr0ub4dor3x"),
    "api-key": keyed("api_key", "9f8e7d6c5b4a"),
    "api-key-camel": keyed("apiKey", "k3y-v4lue-123"),
    "client-secret": keyed("client_secret", "cs_9a8b7c6d5e"),
    "secret": keyed("secret", "s3cr3t-v4lu3"),
    "session-id": keyed("session_id", "3f2a1b0c9d8e"),
    "passphrase": keyed("passphrase", "correct-horse-battery"),
    "dsn": keyed("SENTRY_DSN", "https://abc123@o1.ingest.example.com/42"),
    "aws-secret": keyed("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "query-access-token": token("/api?access_token=at5f4e3d2c1b&page=2", "GET {}"),
    "query-token": token("https://api.example.com/v1/items?token=tok9876543210", "GET {}"),
    "query-api-key": token("/search?q=shoes&api_key=ak1234abcd5678", "GET {}"),
    "query-password": token("/login?user=bob&password=pwqwerty99", "GET {}"),
    "aws-key-id": token("AKIA4HXQ7ZP2MB6KJ3TU"),
    "aws-temp-key-id": token("ASIAJ4K7Q2XZ8PLM5N3R"),
    "github-classic": token("ghp_" + _fill(36)),
    "github-oauth": token("gho_" + _fill(36)),
    "github-fine-grained": token("github_pat_11ABCDEFG0" + _fill(12) + "_" + _fill(59)),
    "gitlab": token("glpat-" + _fill(20)),
    "google-api-key": token("AIza" + _fill(35)),
    "openai": token("sk-" + _fill(48)),
    "openai-project": token("sk-proj-" + _fill(40) + "-" + _fill(20)),
    "anthropic": token("sk-ant-api03-" + _fill(60)),
    "slack-bot": token("xoxb-1234567890-1234567890123-" + _fill(24)),
    "slack-webhook": token("https://hooks.slack.com/services/T0AB1CD2E/B0FG3HI4J/" + _fill(24)),
    "stripe-live": token("sk_live_" + _fill(24)),
    "stripe-restricted": token("rk_live_" + _fill(24)),
    "stripe-test": token("sk_test_" + _fill(24)),
    "stripe-webhook": token("whsec_" + _fill(32)),
    "jwt": token(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    ),
    "npm": token("npm_" + _fill(36)),
    "pypi": token("pypi-AgEIcHlwaS5vcmc" + _fill(60)),
    "sendgrid": token("SG." + _fill(22) + "." + _fill(43)),
    "twilio": token("SK" + _fill(32, HEX)),
    "telegram": token("123456789:AA" + _fill(33)),
    "shopify": token("shpat_" + _fill(32, HEX)),
    "card-visa": token("4111 1111 1111 1111", "charge failed for card {}"),
    "card-mastercard": token("5500-0000-0000-0004", "charge failed for card {}"),
    "card-amex": token("378282246310005", "charge failed for card {}"),
    "private-key-rsa": token(PEM.format(kind="RSA "), "loaded {}"),
    "private-key-openssh": token(PEM.format(kind="OPENSSH "), "loaded {}"),
    "bearer": Secret(
        "401 from upstream, Authorization: Bearer 7f3a9c2e1b8d4f6a (retrying)",
        'headers = {"Authorization": "Bearer 7f3a9c2e1b8d4f6a"}',
        ("7f3a9c2e1b8d4f6a",),
    ),
    "basic-auth": Secret(
        "sent Authorization: Basic dXNlcjpwYXNzd29yZA== and got 403",
        'headers = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}',
        ("dXNlcjpwYXNzd29yZA",),
    ),
    "cookie-header": Secret(
        "request had Cookie: sessionid=abc123def456; csrftoken=zyx987wvu",
        'headers = {"Cookie": "sessionid=abc123def456; csrftoken=zyx987wvu"}',
        ("abc123def456", "zyx987wvu"),
    ),
    "set-cookie": Secret(
        "upstream said Set-Cookie: session=Zm9vYmFy1234; Path=/; HttpOnly",
        'headers = {"Set-Cookie": "session=Zm9vYmFy1234; Path=/; HttpOnly"}',
        ("Zm9vYmFy1234",),
    ),
    "api-key-header": Secret(
        "X-Api-Key: xak55aa66bb77 was refused",
        'headers = {"X-Api-Key": "xak55aa66bb77"}',
        ("xak55aa66bb77",),
    ),
}


class LookAlike(NamedTuple):
    """Harmless text that mentions secret words or has a secret-like shape."""

    text: str
    code: str
    kv: Optional[Tuple[str, Any]] = None


def pair(key: str, value: Any) -> LookAlike:
    return LookAlike(f"settings {key}={value} loaded", f"{key} = {value!r}", (key, value))


def prose(text: str) -> LookAlike:
    return LookAlike(text, f"message = {text!r}")


LOOK_ALIKES: Dict[str, LookAlike] = {
    "max-tokens": pair("max_tokens", 5),
    "token-count": pair("token_count", 12),
    "session-timeout": pair("session_timeout", 30),
    "password-min-length": pair("password_min_length", 12),
    "cookie-consent": pair("cookie_consent", "accepted"),
    "secretary-id": pair("secretary_id", 77),
    "passwordless": pair("passwordless", True),
    "tokenizer": pair("tokenizer", "bpe"),
    "token-type": pair("token_type", "bearer"),
    "cache-key": pair("cache_key", "user:42"),
    "primary-key": pair("primary_key", 1234),
    "keyboard": pair("keyboard", "us"),
    "secret-santa": pair("secret_santa_enabled", False),
    "apikey-rotation": pair("apikey_rotation_days", 90),
    "session-count": pair("session_count", 3),
    "pwd": pair("PWD", "/home/app/src"),
    "bearer-prose": prose("bearer authentication failed"),
    "password-prose": prose("password reset email sent to user 42"),
    "token-prose": prose("invalid token for user 42"),
    "order-number": prose("order 4000123412341235 not found"),
    "timestamp-ms": prose("stalled since 1733097600123 ms"),
    "pi": prose("pi is 3.14159265358979323"),
    "uuid": prose("event 6f1c2a9e-8b7d-4c3e-9a1b-2d3e4f5a6b7c not found"),
    "git-sha": prose("deployed commit 3f786850e387550fdab836ed7e6dc881de23001b"),
    "risk-slug": prose("report risk-assessment-quarterly-summary-2024 failed"),
    "url-with-port": prose("GET https://example.com:8443/v2/items@latest failed"),
}

CHANNELS = ("message", "exception", "structlog", "code_context")


@pytest.fixture
def structlog_logger() -> Iterator[Any]:
    structlog.configure(
        processors=[PixelProcessor(), structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(io.StringIO()),
    )
    yield structlog.get_logger()
    structlog.reset_defaults()


#: Lines after the raise: the code window is centred on it, and shrinks at a file's end.
_AFTER = "\n\ndef after():\n    return 1\n"


def _raiser(folder: Path, name: str, code: str, text: str) -> Callable[[], None]:
    """A function in its own module whose source has ``code`` just above the raise."""
    (folder / f"{name}.py").write_text(
        f"def fail():\n    {code}\n    raise RuntimeError({text!r})\n" + _AFTER, encoding="utf-8"
    )
    module = importlib.import_module(name)
    return module.fail  # type: ignore[no-any-return]


def _channels(
    tmp_path: Path,
    structlog_logger: Any,
    events: Callable[..., List[Dict[str, Any]]],
    cases: Dict[str, Any],
    prefix: str,
) -> Dict[str, Dict[str, str]]:
    """Send every case through the four channels; ``{channel: {case: text seen}}``."""
    log = logging.getLogger("tests.shapes")
    for number, (name, case) in enumerate(cases.items()):
        ez_pixel.report_pixel(f"message {name}: {case.text}")
        try:
            _raiser(tmp_path, f"{prefix}_{number}", case.code, case.text)()
        except RuntimeError:
            log.exception(f"exception {name}")
        key, value = case.kv if case.kv is not None else ("detail", case.text)
        structlog_logger.error(f"structlog {name}", **{key: value})
    arrived = events(3 * len(cases), 30)
    seen: Dict[str, Dict[str, str]] = {channel: {} for channel in CHANNELS}
    for event in arrived:
        kind, _, rest = event["message"].partition(" ")
        name = rest.split(":", 1)[0]
        if kind == "message":
            seen["message"][name] = rest.split(": ", 1)[1]
        elif kind == "exception":
            seen["exception"][name] = rest.split(": ", 1)[1]
            context = event["code_context"]
            seen["code_context"][name] = context["lines"][
                context["error_line"] - context["start_line"] - 1
            ]
        elif kind == "structlog":
            key = cases[name].kv[0] if cases[name].kv is not None else "detail"
            seen["structlog"][name] = event["context"][key]
    return seen


@pytest.fixture
def shapes_client(tmp_path: Path, monkeypatch: Any, pixel: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    pixel(queue_size=1000)


def _original(case: Any, channel: str) -> str:
    if channel == "code_context":
        return str(case.code)
    if channel == "structlog" and case.kv is not None:
        return str(case.kv[1])
    return str(case.text)


@pytest.mark.usefixtures("shapes_client")
def test_secret_shapes_are_caught_and_look_alikes_kept_in_every_channel(
    tmp_path: Path, structlog_logger: Any, events: Any, capsys: Any
) -> None:
    assert len(SECRETS) >= 40 and len(LOOK_ALIKES) >= 20
    cases: Dict[str, Any] = {**SECRETS, **LOOK_ALIKES}
    seen = _channels(tmp_path, structlog_logger, events, cases, "shapes")
    missed: Dict[str, List[str]] = {}
    filtered: Dict[str, List[str]] = {}
    for channel in CHANNELS:
        missed[channel] = [
            name
            for name, case in SECRETS.items()
            if any(leak in seen[channel][name] for leak in case.leaks)
        ]
        filtered[channel] = [
            name
            for name, case in LOOK_ALIKES.items()
            if seen[channel][name].strip() != _original(case, channel).strip()
        ]
    with capsys.disabled():
        for channel in CHANNELS:
            caught = len(SECRETS) - len(missed[channel])
            print(
                f"\nscrub {channel}: recall {caught}/{len(SECRETS)}, false positives "
                f"{len(filtered[channel])}/{len(LOOK_ALIKES)}; missed {missed[channel]}; "
                f"filtered {filtered[channel]}"
            )
    assert missed == {channel: [] for channel in CHANNELS}
    assert filtered == {channel: [] for channel in CHANNELS}


def test_text_full_of_key_words_is_scrubbed_without_backtracking(pixel: Any, events: Any) -> None:
    # Matching key names by substring backtracked cubically here: seconds per 2.4 KiB message.
    pixel()
    for number in range(20):
        ez_pixel.report_pixel(f"{number} " + "token_" * 400)
    ez_pixel.report_pixel("after the key words")
    arrived = events(21, 30)
    assert [e["message"] for e in arrived][-1] == "after the key words"
