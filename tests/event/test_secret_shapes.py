"""Every secret shape the README lists is filtered from the message."""

import logging
from typing import Any

import pytest

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
