"""Record the hosted pixel server's answers to a catalogue of raw requests.

Needs the real server running on loopback (``../shared/realserver/run.sh``,
see docs/collector.md): its answers are the truth the collector must match.

    python tools/record_server_answers.py --port 8797            # record
    python tools/record_server_answers.py --port 8765 --compare  # check a collector

Recording writes ``tests/fixtures/server_answers.json``: every request and the
server's normalised answer (status, compared headers, body). The suite's
``tests/collector/test_server_twin.py`` replays it against the collector and requires
no difference. ``--compare`` replays against any running server (e.g.
``ez-pixel serve``) and prints the differences instead of writing.

The fingerprint cap is 10,000 per project, fixed in the server's code: the
``fill`` step sends 10,000 distinct fingerprints to a fresh project (about
15 s against the real server); the suite fills the collector's store directly.
"""

import argparse
import http.client
import json
import os
import re
import sys
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from server_twin import differences, replay, substitute  # noqa: E402

FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "server_answers.json")
JSON = [["Content-Type", "application/json"]]
EMOJI = "\U0001f600"  # two UTF-16 code units, four UTF-8 bytes


def event(n: Any, key: str = "{{KEY_A}}", **fields: Any) -> Dict[str, Any]:
    """A valid event; ``n`` names its event_id, fields replace or (None-valued: drop) keys."""
    base: Dict[str, Any] = {
        "event_id": f"evt-{n}",
        "project_key": key,
        "fingerprint": "fp-main",
        "type": "ValueError",
        "message": "invalid literal for int() with base 10: 'x'",
        "stack": [
            {"file": "app/views.py", "line": 42, "col": 9, "fn": "parse_qty", "in_app": True},
            {"file": "lib/core.py", "line": 7, "col": 1, "fn": "call", "in_app": False},
        ],
        "code_context": {
            "file": "app/views.py",
            "error_line": 42,
            "lines": ["def parse_qty(text):", "    return int(text)", ""],
        },
        "runtime": "python-3.12.3",
        "manual_report": False,
        "level": "error",
        "occurred_at": "2026-04-29T14:22:01Z",
    }
    for name, value in fields.items():
        if value is DROP:
            base.pop(name, None)
        else:
            base[name] = value
    return base


DROP = object()
STEPS: List[Dict[str, Any]] = []


def add(name: str, method: str, path: str, **spec: Any) -> None:
    """Append one request step."""
    step: Dict[str, Any] = {"name": name, "method": method, "path": path}
    step.update(spec)
    STEPS.append(step)


def ingest(name: str, body: Any, headers: Any = None, path: str = "/ingest", **spec: Any) -> None:
    """Append a ``POST /ingest`` with a JSON body (or raw text when ``body`` is a str)."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    add(name, "POST", path, headers=JSON + (headers or []), body=text, **spec)


def api(
    name: str, method: str, path: str, secret: str = "{{SECRET_A}}", body: Any = None, **spec: Any
) -> None:
    """Append a management call with a Bearer secret."""
    headers = [["Authorization", f"Bearer {secret}"]] if secret else []
    if body is not None:
        headers.append(["Content-Type", "application/json"])
        spec["body"] = body if isinstance(body, str) else json.dumps(body)
    add(name, method, path, headers=headers, **spec)


def sized(name: str, units: int, piece: str, piece_units: int, fp: str, **spec: Any) -> None:
    """An event whose decoded body is exactly ``units`` UTF-16 code units, padded with ``piece``."""
    head = json.dumps(event(name, fingerprint=fp), ensure_ascii=False)[:-1] + ', "pad": "'
    tail = '"}'
    # The key placeholder is replaced by a key of the same length (pk_live_ + 32 hex).
    fixed = len(substitute(head + tail, {"KEY_A": "pk_live_" + "0" * 32}))
    count, rest = divmod(units - fixed, piece_units)
    parts = [[head, 1], [piece, count], ["a", rest], [tail, 1]]
    add(name, "POST", "/ingest", headers=JSON, body_parts=parts, **spec)


def catalogue() -> None:
    """Every request, in order (later steps rely on state left by earlier ones)."""
    project = {"capture": {"PROJ_A": "id", "KEY_A": "key", "SECRET_A": "secret"}}
    add(
        "projects: create A",
        "POST",
        "/api/projects",
        headers=JSON,
        body='{"name": "twin-a"}',
        **project,
    )
    add(
        "projects: create B",
        "POST",
        "/api/projects",
        headers=JSON,
        body='{"name": "twin-b"}',
        capture={"PROJ_B": "id", "KEY_B": "key", "SECRET_B": "secret"},
    )
    for label, body in [
        ("no name", "{}"),
        ("empty name", '{"name": ""}'),
        ("name not a string", '{"name": 5}'),
        ("name 101 chars", json.dumps({"name": "n" * 101})),
        ("name 51 emoji (102 units)", json.dumps({"name": EMOJI * 51})),
        ("invalid json", "{nope"),
        ("array", "[]"),
        ("no body", ""),
    ]:
        add(f"projects: {label}", "POST", "/api/projects", headers=JSON, body=body)
    add(
        "projects: name 100 chars",
        "POST",
        "/api/projects",
        headers=JSON,
        body=json.dumps({"name": "n" * 100}),
    )
    add(
        "projects: name 50 emoji (100 units)",
        "POST",
        "/api/projects",
        headers=JSON,
        body=json.dumps({"name": EMOJI * 50}, ensure_ascii=False),
    )
    add(
        "projects: name padded with spaces",
        "POST",
        "/api/projects",
        headers=JSON,
        body='{"name": " \\u00a0spaced\\n\\ufeff"}',
    )
    add(
        "projects: name of spaces only (the server throws)",
        "POST",
        "/api/projects",
        headers=JSON,
        body='{"name": "   "}',
    )
    add(
        "projects: null body (the server throws)",
        "POST",
        "/api/projects",
        headers=JSON,
        body="null",
    )
    add("projects: GET is not a route", "GET", "/api/projects")

    # -- valid events, duplicates, updates
    ingest("ingest: valid event", event(1), capture={"ERR_MAIN": "error_id"})
    ingest("ingest: same event_id is a duplicate", event(1))
    ingest("ingest: new event_id bumps the group", event(2, message="newer", type="KeyError"))
    ingest("ingest: the earlier event_id again is not a duplicate", event(1))
    ingest(
        "ingest: no stack, no code_context",
        event(3, fingerprint="fp-bare", stack=DROP, code_context=DROP),
    )
    ingest(
        "ingest: stack and code_context of any type",
        event(4, fingerprint="fp-odd", stack="just text", code_context=5),
    )
    ingest("ingest: extra fields are ignored", event(5, fingerprint="fp-extra", context={"a": 1}))
    ingest("ingest: query string ignored", event(6), path="/ingest?source=x")
    ingest("ingest: with Origin", event(7, fingerprint="fp-origin"), [["Origin", "http://a.test"]])
    ingest("ingest: x-pixel-key equal to the body's", event(8), [["x-pixel-key", "{{KEY_A}}"]])
    ingest("ingest: x-pixel-key differs", event(9), [["x-pixel-key", "pk_test_other"]])
    ingest("ingest: empty x-pixel-key is ignored", event(10), [["x-pixel-key", ""]])
    ingest(
        "ingest: x-pixel-key differs but body invalid first",
        event(11, level="debug"),
        [["x-pixel-key", "pk_test_other"]],
    )
    ingest("ingest: unknown project key", event(12, key="pk_live_" + "0" * 32))
    ingest("ingest: unknown test key", event(13, key="pk_test_nobody"))
    ingest(
        "ingest: key of project B",
        event(14, key="{{KEY_B}}", fingerprint="fp-b"),
        capture={"ERR_B": "error_id"},
    )

    # -- each field missing
    for field in (
        "event_id",
        "project_key",
        "fingerprint",
        "type",
        "message",
        "runtime",
        "manual_report",
        "level",
        "occurred_at",
    ):
        ingest(f"missing {field}", event(f"m-{field}", **{field: DROP}))

    # -- mistyped
    for field, value in [
        ("event_id", 5),
        ("event_id", ""),
        ("event_id", None),
        ("project_key", 5),
        ("project_key", "pk_prod_abc"),
        ("project_key", "pk_live_a\n"),
        ("project_key", "pk_test_a b"),
        ("project_key", "pk_test_"),
        ("fingerprint", 5),
        ("fingerprint", ""),
        ("fingerprint", "has space"),
        ("fingerprint", "fp\n"),
        ("fingerprint", "f\u00e9"),
        ("type", 5),
        ("type", None),
        ("message", None),
        ("message", ["a"]),
        ("runtime", 5),
        ("manual_report", "false"),
        ("manual_report", 0),
        ("manual_report", None),
        ("level", "ERROR"),
        ("level", "info"),
        ("level", None),
        ("level", 1),
        ("occurred_at", 5),
        ("occurred_at", None),
    ]:
        ingest(
            f"mistyped {field}={json.dumps(value)}", event(f"t-{field}-{value!r}", **{field: value})
        )

    # -- lengths in UTF-16 code units, ASCII and multi-byte
    limits = [
        ("event_id", 128),
        ("type", 256),
        ("message", 4096),
        ("runtime", 64),
        ("occurred_at", 64),
    ]
    for field, limit in limits:
        ingest(
            f"{field} at {limit} ASCII",
            event(f"{field}-ok", fingerprint=f"len-{field}", **{field: "x" * limit}),
        )
        ingest(
            f"{field} at {limit + 1} ASCII", event(f"{field}-over", **{field: "x" * (limit + 1)})
        )
        ingest(
            f"{field} at {limit} units of emoji",
            event(f"{field}-e-ok", fingerprint=f"lene-{field}", **{field: EMOJI * (limit // 2)}),
        )
        ingest(
            f"{field} at {limit + 1} units (emoji + 1)",
            event(f"{field}-e-over", **{field: EMOJI * (limit // 2) + "a"}),
        )
    ingest("message 4096 é", event("msg-e", fingerprint="len-e", message="\u00e9" * 4096))
    ingest("message 4097 é", event("msg-e2", message="\u00e9" * 4097))
    ingest("message 2049 emoji", event("msg-2049", message=EMOJI * 2049))
    ingest("fingerprint 256", event("fp-256", fingerprint="f" * 256))
    ingest("fingerprint 257", event("fp-257", fingerprint="f" * 257))
    ingest("project_key 128 after prefix", event("pk-128", key="pk_test_" + "a" * 128))
    ingest("project_key 129 after prefix", event("pk-129", key="pk_test_" + "a" * 129))

    # -- the body cap: 65,536 UTF-16 code units of decoded text
    sized("body 65536 units ASCII", 65536, "x", 1, "cap-ascii")
    sized("body 65537 units ASCII", 65537, "x", 1, "cap-ascii")
    sized("body 65536 units of é (~131 KB)", 65536, "\u00e9", 1, "cap-e")
    sized("body 65537 units of é", 65537, "\u00e9", 1, "cap-e")
    sized("body 65536 units of emoji", 65536, EMOJI, 2, "cap-emoji")
    sized("body 65537 units of emoji", 65537, EMOJI, 2, "cap-emoji")
    sized("body 99,999 bytes of é (50k units)", 50020, "\u00e9", 1, "cap-99999")
    sized("body 65536 units sent chunked", 65536, "x", 1, "cap-chunked", chunked=True)
    add(
        "body over 3 bytes per unit (200 KB)",
        "POST",
        "/ingest",
        headers=JSON,
        body_parts=[["x", 200_000]],
    )

    # -- encodings
    valid = json.dumps(event("enc-bom", fingerprint="enc"), ensure_ascii=False)
    add(
        "UTF-8 BOM before the JSON",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(b"\xef\xbb\xbf" + valid.encode()),
    )
    add(
        "two BOMs",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(b"\xef\xbb\xbf\xef\xbb\xbf" + valid.encode()),
    )
    add(
        "three BOMs",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(b"\xef\xbb\xbf" * 3 + valid.encode()),
    )
    sized("two BOMs + 65536 units", 65536, "x", 1, "cap-bom")
    STEPS[-1]["body_parts"].insert(0, ["\ufeff\ufeff", 1])
    sized("two BOMs + 65537 units", 65537, "x", 1, "cap-bom")
    STEPS[-1]["body_parts"].insert(0, ["\ufeff\ufeff", 1])
    bad = json.dumps(event("enc-bad", fingerprint="enc-bad", message="A-B")).encode()
    add(
        "invalid UTF-8 inside a string",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(bad.replace(b"A-B", b"A\xff\xfeB")),
        capture={"ERR_BAD": "error_id"},
    )
    add(
        "invalid UTF-8 outside strings",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(b"\xff" + bad),
    )
    add(
        "UTF-16 encoded body",
        "POST",
        "/ingest",
        headers=JSON,
        body_b64=_b64(valid.encode("utf-16")),
    )
    add(
        "chunked body",
        "POST",
        "/ingest",
        headers=JSON,
        chunked=True,
        body=json.dumps(event("chunked", fingerprint="chunked")),
    )
    add("no content-type", "POST", "/ingest", body=json.dumps(event("no-ct", fingerprint="no-ct")))
    add(
        "text/plain latin-1 content-type",
        "POST",
        "/ingest",
        headers=[["Content-Type", "text/plain; charset=latin-1"]],
        body=json.dumps(event("latin", fingerprint="latin", message="\u00e9"), ensure_ascii=False),
    )
    ingest(
        "lone surrogate in message",
        '{"event_id":"sur-1","project_key":"{{KEY_A}}",'
        '"fingerprint":"sur","type":"T","message":"a\\ud800b","runtime":"r",'
        '"manual_report":false,"level":"error","occurred_at":"t","stack":["\\udc00"]}',
        capture={"ERR_SUR": "error_id"},
    )
    ingest(
        "lone surrogate in type counts one unit",
        json.dumps(event("sur-2", fingerprint="sur2", type="x" * 255))[:-1].replace(
            '"type": "' + "x" * 255, '"type": "' + "x" * 255 + "\\udfff"
        )
        + "}",
    )
    ingest(
        "lone surrogate in fingerprint",
        json.dumps(event("sur-3")).replace('"fingerprint": "fp-main"', '"fingerprint": "\\ud800"'),
    )
    ingest(
        "escaped surrogate pair in type",
        json.dumps(event("sur-4", fingerprint="sur4", type="x" * 254 + EMOJI)),
    )

    # -- JSON oddities
    for label, text in [
        ("empty body", ""),
        ("not JSON", "{nope"),
        ("null", "null"),
        ("array", "[]"),
        ("string", '"text"'),
        ("number", "5"),
        ("true", "true"),
        ("false", "false"),
        ("NaN", '{"a": NaN}'),
        ("trailing comma", '{"a": 1,}'),
        ("trailing garbage", "{} x"),
        ("whitespace around", " \n" + json.dumps(event("ws", fingerprint="ws")) + "\n\t "),
        ("deep nesting", "[" * 5000 + "]" * 5000),
        (
            "stack nested 3500 deep",
            json.dumps(event("deep3500", fingerprint="deep3500", stack=[])).replace(
                '"stack": []', '"stack": ' + "[" * 3500 + "]" * 3500
            ),
        ),
        (
            "stack nested 6000 deep (the server runs out of stack)",
            json.dumps(event("deep6000", fingerprint="deep6000", stack=[])).replace(
                '"stack": []', '"stack": ' + "[" * 6000 + "]" * 6000
            ),
        ),
        (
            "deep stack of a known fingerprint",
            json.dumps(event("deep-known", fingerprint="fp-main", stack=[])).replace(
                '"stack": []', '"stack": ' + "[" * 5000 + "]" * 5000
            ),
        ),
        (
            "object keys in JavaScript order",
            json.dumps(event("keys", fingerprint="keys")).replace(
                '"code_context": {', '"code_context": {"b": 1, "2": 2, "10": 3, "a": 4, '
            ),
        ),
        (
            "deep nesting in stack",
            json.dumps(event("deep", fingerprint="deep", stack=[])).replace(
                '"stack": []', '"stack": ' + "[" * 3000 + "]" * 3000
            ),
        ),
        (
            "duplicate keys, last wins",
            json.dumps(event("dup", fingerprint="dupkeys"))[:-1]
            + ', "level": "debug", "level": "warning"}',
        ),
        (
            "numbers in the stack",
            json.dumps(event("nums", fingerprint="nums", stack=[])).replace(
                '"stack": []',
                '"stack": [1.0, 1e5, 1e21, 1e-7, -0, 12345678901234567890, '
                "1e400, 0.1, 5e-324, 123456789012345680000]",
            ),
        ),
        (
            "control character escaped in message",
            json.dumps(event("ctl", fingerprint="ctl", message="a\x1b[31m\u2028b\x7f")),
        ),
        (
            "raw control character in a string",
            json.dumps(event("raw")).replace("base 10", "base\x0110"),
        ),
    ]:
        capture = {"capture": {"ERR_" + re.sub("[^A-Z0-9]+", "_", label.upper()): "error_id"}}
        ingest(f"json: {label}", text, **capture)

    # -- what was stored (GET shows the server's row)
    for var in (
        "ERR_MAIN",
        "ERR_BAD",
        "ERR_SUR",
        "ERR_NUMBERS_IN_THE_STACK",
        "ERR_CONTROL_CHARACTER_ESCAPED_IN_MESSAGE",
        "ERR_DEEP_NESTING_IN_STACK",
        "ERR_OBJECT_KEYS_IN_JAVASCRIPT_ORDER",
        "ERR_STACK_NESTED_3500_DEEP",
    ):
        api(f"stored: GET {var}", "GET", "/api/errors/{{" + var + "}}")

    # -- management API: auth
    api("auth: no header", "GET", "/api/projects/{{PROJ_A}}/errors", secret="")
    api("auth: malformed secret", "GET", "/api/projects/{{PROJ_A}}/errors", secret="sk_live_abc")
    add(
        "auth: lower-case scheme",
        "GET",
        "/api/projects/{{PROJ_A}}/errors",
        headers=[["Authorization", "bearer {{SECRET_A}}"]],
    )
    add(
        "auth: two spaces",
        "GET",
        "/api/projects/{{PROJ_B}}/errors",
        headers=[["Authorization", "Bearer  {{SECRET_B}}"]],
    )
    api(
        "auth: unknown secret",
        "GET",
        "/api/projects/{{PROJ_A}}/errors",
        secret="sk_live_" + "0" * 64,
    )
    api(
        "auth: upper-case hex",
        "GET",
        "/api/projects/{{PROJ_A}}/errors",
        secret="sk_live_" + "A" * 64,
    )
    add(
        "auth: trailing text",
        "GET",
        "/api/projects/{{PROJ_A}}/errors",
        headers=[["Authorization", "Bearer {{SECRET_A}} x"]],
    )
    add(
        "auth: tab separator",
        "GET",
        "/api/projects/{{PROJ_B}}/errors",
        headers=[["Authorization", "Bearer\t{{SECRET_B}}"]],
    )
    api("auth: HEAD on a list", "HEAD", "/api/projects/{{PROJ_A}}/errors", secret="")
    api("auth: other project's list", "GET", "/api/projects/{{PROJ_B}}/errors")
    api("auth: other project's error", "GET", "/api/errors/{{ERR_B}}")
    api("auth: no header on an error", "DELETE", "/api/errors/{{ERR_MAIN}}", secret="")
    # -- management API: list, get, patch, delete
    api("list: all", "GET", "/api/projects/{{PROJ_A}}/errors")
    api(
        "list: status=open",
        "GET",
        "/api/projects/{{PROJ_B}}/errors?status=open",
        secret="{{SECRET_B}}",
    )
    api("list: status=merged (none)", "GET", "/api/projects/{{PROJ_A}}/errors?status=merged")
    api(
        "list: status empty",
        "GET",
        "/api/projects/{{PROJ_B}}/errors?status=",
        secret="{{SECRET_B}}",
    )
    api("list: status bogus", "GET", "/api/projects/{{PROJ_A}}/errors?status=bogus")
    api("list: trailing slash", "GET", "/api/projects/{{PROJ_A}}/errors/")
    api("get: unknown id", "GET", "/api/errors/err_" + "0" * 32)
    api("get: odd id", "GET", "/api/errors/42")
    api(
        "patch: status in_progress + branch",
        "PATCH",
        "/api/errors/{{ERR_MAIN}}",
        body={"status": "in_progress", "branch": "fix/pixel-1"},
    )
    api(
        "patch: status awaiting_review",
        "PATCH",
        "/api/errors/{{ERR_MAIN}}",
        body={"status": "awaiting_review"},
    )
    api("patch: empty object", "PATCH", "/api/errors/{{ERR_MAIN}}", body={})
    api("patch: invalid JSON", "PATCH", "/api/errors/{{ERR_MAIN}}", body="{nope")
    api("patch: null body", "PATCH", "/api/errors/{{ERR_MAIN}}", body="null")
    api("patch: status bogus", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": "bogus"})
    api("patch: status number", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": 5})
    api("patch: status null", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": None})
    api("patch: status list", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": ["a", "b"]})
    api("patch: branch null", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"branch": None})
    for value in (5, 1.5, True, 1e300):
        api(
            f"patch: branch {value!r} (stored as SQLite REAL text)",
            "PATCH",
            "/api/errors/{{ERR_MAIN}}",
            body={"branch": value},
        )
    api(
        "patch: branch with a lone surrogate",
        "PATCH",
        "/api/errors/{{ERR_MAIN}}",
        body='{"branch": "fix/\\ud800"}',
    )
    api(
        "patch: a status and a branch string",
        "PATCH",
        "/api/errors/{{ERR_MAIN}}",
        body={"status": "open", "branch": "fix/pixel-2"},
    )
    api("patch: unknown id", "PATCH", "/api/errors/err_" + "0" * 32, body={"status": "open"})
    api("patch: other project's", "PATCH", "/api/errors/{{ERR_B}}", body={"status": "open"})
    # -- recurrence: a merged group that comes back reopens
    api("recurrence: merge", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": "merged"})
    api("list: status=merged", "GET", "/api/projects/{{PROJ_A}}/errors?status=merged")
    ingest("recurrence: the fingerprint comes back", event("rec-1"))
    ingest("recurrence: again, no longer merged", event("rec-2"))
    api("recurrence: GET after", "GET", "/api/errors/{{ERR_MAIN}}")
    api("recurrence: failed", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": "failed"})
    ingest("recurrence: failed does not recur", event("rec-3"))
    api("recurrence: merge again", "PATCH", "/api/errors/{{ERR_MAIN}}", body={"status": "merged"})
    ingest("recurrence: duplicate of the last event keeps it merged", event("rec-3"))
    ingest("recurrence: second recurrence", event("rec-4"))
    api("recurrence: GET after the second", "GET", "/api/errors/{{ERR_MAIN}}")
    # -- delete
    api("delete: one", "DELETE", "/api/errors/{{ERR_BAD}}")
    api("delete: again", "DELETE", "/api/errors/{{ERR_BAD}}")
    api("delete: other project's", "DELETE", "/api/errors/{{ERR_B}}")
    ingest("delete: the fingerprint comes back as new", event("del-1", fingerprint="enc-bad"))
    api("management: POST on an error", "POST", "/api/errors/{{ERR_MAIN}}", body={})
    api("management: PUT on a list", "PUT", "/api/projects/{{PROJ_A}}/errors", body={})

    # -- methods and paths
    for method, path in [
        ("GET", "/ingest"),
        ("PUT", "/ingest"),
        ("DELETE", "/ingest"),
        ("PATCH", "/ingest"),
        ("HEAD", "/ingest"),
        ("GET", "/health"),
        ("HEAD", "/health"),
        ("POST", "/health"),
        ("GET", "/health/"),
        ("GET", "/"),
        ("POST", "/ingest/"),
        ("POST", "/INGEST"),
        ("GET", "/nope"),
        ("GET", "/api/errors"),
        ("OPTIONS", "/health"),
        ("OPTIONS", "/api/projects"),
    ]:
        add(f"route: {method} {path}", method, path)
    # -- CORS
    add(
        "cors: preflight",
        "OPTIONS",
        "/ingest",
        headers=[
            ["Origin", "http://a.test"],
            ["Access-Control-Request-Method", "POST"],
            ["Access-Control-Request-Headers", "content-type,x-pixel-key"],
        ],
    )
    add(
        "cors: preflight without request headers",
        "OPTIONS",
        "/ingest",
        headers=[["Origin", "http://a.test"], ["Access-Control-Request-Method", "POST"]],
    )
    add("cors: bare OPTIONS", "OPTIONS", "/ingest")
    add("cors: OPTIONS with a body", "OPTIONS", "/ingest", headers=JSON, body="{}")
    ingest("cors: error answer carries the header", "{nope", [["Origin", "http://a.test"]])
    add(
        "cors: management has none",
        "GET",
        "/api/projects/{{PROJ_B}}/errors",
        headers=[["Origin", "http://a.test"], ["Authorization", "Bearer {{SECRET_B}}"]],
    )

    # -- the fingerprint cap (10,000 per project)
    add(
        "cap: project C",
        "POST",
        "/api/projects",
        headers=JSON,
        body='{"name": "twin-cap"}',
        capture={"PROJ_C": "id", "KEY_C": "key", "SECRET_C": "secret"},
    )
    STEPS.append(
        {
            "name": "cap: fill C with 10,000 fingerprints",
            "fill": {"key": "{{KEY_C}}", "count": 10_000},
        }
    )
    ingest(
        "cap: a new fingerprint is refused",
        event("cap-new", key="{{KEY_C}}", fingerprint="cap-new"),
    )
    ingest(
        "cap: a known fingerprint still lands",
        event("cap-known", key="{{KEY_C}}", fingerprint="fill-0"),
    )
    ingest("cap: invalid event still 400 first", event("cap-bad", key="{{KEY_C}}", level="x"))
    ingest("cap: other projects are not affected", event("cap-other", fingerprint="cap-new"))


def _compact(step: Dict[str, Any]) -> Dict[str, Any]:
    """A long text body as runs (``[piece, count]``), so the fixture stays small."""
    body = step.get("body")
    if not isinstance(body, str) or len(body) < 1000:
        return step
    parts: List[List[Any]] = []
    for match in re.finditer(r"(.)\1{49,}|(?:(.)(?!\2{49}))+?(?=(.)\3{49}|$)", body, re.S):
        text = match.group()
        if match.group(1) is not None:
            parts.append([text[0], len(text)])
        else:
            parts.append([text, 1])
    compact = {k: v for k, v in step.items() if k != "body"}
    compact["body_parts"] = parts
    assert "".join(piece * count for piece, count in parts) == body
    return compact


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def http_fill(port: int) -> Any:
    """Send ``count`` distinct fingerprints to a project over one kept-alive connection."""

    def fill(key: str, count: int, variables: Dict[str, str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in range(count):
                body = json.dumps(event(f"fill-{i}", key=key, fingerprint=f"fill-{i}"))
                conn.request("POST", "/ingest", body, {"content-type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"fill: event {i} answered {response.status}")
        finally:
            conn.close()

    return fill


def main() -> int:
    """Record (or compare) and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the server's loopback port")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare this server's answers with the fixture; write nothing",
    )
    args = parser.parse_args()
    catalogue()
    answers = replay(args.port, STEPS, http_fill(args.port))
    requests = sum(1 for step in STEPS if "fill" not in step)
    if args.compare:
        with open(FIXTURE, encoding="utf-8") as file:
            recorded = json.load(file)
        diffs = differences(recorded["steps"], [s["answer"] for s in recorded["steps"]], answers)
        print("\n".join(diffs))
        print(f"{requests} requests, {len(diffs)} differences")
        return 1 if diffs else 0
    steps = [dict(_compact(step), answer=answer) for step, answer in zip(STEPS, answers)]
    with open(FIXTURE, "w", encoding="utf-8") as file:
        json.dump({"about": __doc__.split("\n\n")[0], "steps": steps}, file, indent=1)
        file.write("\n")
    print(f"recorded {requests} requests (+1 fill of 10,000) into {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
