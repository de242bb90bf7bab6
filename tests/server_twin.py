"""Replaying recorded requests against a pixel server and comparing the answers.

Shared by ``tools/record_server_answers.py`` (which records the hosted server's
answers into ``tests/fixtures/server_answers.json``) and
``tests/collector/test_server_twin.py`` (which replays them against the collector).

A step is one raw HTTP request (``method``, ``path``, ``headers``, a body given
as text, base64 or repeated parts, optionally sent chunked) or a ``fill`` of a
project with many fingerprints. Values that differ between servers (project
ids, keys, secrets, error ids, timestamps) are captured into named variables,
substituted into later requests as ``{{NAME}}``, and normalised in answers.
"""

import base64
import json
import re
import socket
from typing import Any, Callable, Dict, List, Optional, Tuple

#: Response headers compared between the two servers (lower-case).
COMPARED_HEADERS = (
    "content-type",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-expose-headers",
    "vary",
    "retry-after",
    "allow",
)
_GENERIC = [
    (re.compile(r"err_[0-9a-f]{32}"), "<err>"),
    (re.compile(r"proj_[0-9a-f]{32}"), "<proj>"),
    (re.compile(r"pk_live_[0-9a-f]{32}"), "<pk>"),
    (re.compile(r"sk_live_[0-9a-f]{64}"), "<sk>"),
]
_VAR = re.compile(r"\{\{([A-Z0-9_]+)\}\}")

Answer = Dict[str, Any]


def body_bytes(step: Dict[str, Any], variables: Dict[str, str]) -> bytes:
    """The request body of a step, variables substituted."""
    if "body_b64" in step:
        return substitute_bytes(base64.b64decode(step["body_b64"]), variables)
    parts = step.get("body_parts")
    if parts is not None:
        text = "".join(piece * count for piece, count in parts)
    else:
        text = step.get("body", "")
    return substitute(text, variables).encode("utf-8", "surrogatepass")


def substitute(text: str, variables: Dict[str, str]) -> str:
    """Replace ``{{NAME}}`` with the variable's value."""
    return _VAR.sub(lambda m: variables.get(m.group(1), m.group()), text)


def substitute_bytes(data: bytes, variables: Dict[str, str]) -> bytes:
    """Replace ``{{NAME}}`` in raw bytes."""
    for name, value in variables.items():
        data = data.replace(("{{" + name + "}}").encode(), value.encode())
    return data


def request_bytes(step: Dict[str, Any], variables: Dict[str, str]) -> bytes:
    """The raw HTTP/1.1 request of a step (one request per connection)."""
    body = body_bytes(step, variables)
    lines = [f"{step['method']} {substitute(step['path'], variables)} HTTP/1.1"]
    lines.append("Host: 127.0.0.1")
    lines.append("Connection: close")
    for name, value in step.get("headers", []):
        lines.append(f"{name}: {substitute(value, variables)}")
    chunked = step.get("chunked", False)
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        pieces = [body[:half], body[half:]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
    elif body or step["method"] in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def exchange(port: int, raw: bytes, timeout: float = 30.0) -> Tuple[int, Dict[str, str], bytes]:
    """Send one raw request, read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks: List[bytes] = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _normalise_value(value: Any, key: str, names: Dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normalise_value(v, k, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_value(v, key, names) for v in value]
    if isinstance(value, str):
        return normalise_text(value, names)
    if key.endswith("_at") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<ms>"
    return value


def _unordered(value: Any) -> Any:
    """An error list with its order checked, then made canonical.

    Groups seen in the same millisecond tie on ``last_seen_at``, and which
    milliseconds tie differs from one run to the next: so the rule (newest
    first) is checked here, and the order among ties is not compared.
    """
    if not isinstance(value, dict) or not isinstance(value.get("errors"), list):
        return value
    rows = value["errors"]
    seen = [row.get("last_seen_at", 0) for row in rows]
    newest_first = all(a >= b for a, b in zip(seen, seen[1:]))
    canonical = sorted(
        rows, key=lambda row: json.dumps({**row, "first_seen_at": 0, "last_seen_at": 0, "id": ""})
    )
    return dict(value, errors=canonical, newest_first=newest_first)


def normalise_text(text: str, names: Dict[str, str]) -> str:
    """Replace captured values by ``{{NAME}}`` and other minted ids by a generic token."""
    for value, name in names.items():
        text = text.replace(value, "{{" + name + "}}")
    for pattern, token in _GENERIC:
        text = pattern.sub(token, text)
    return text


def normalise(
    status: int, headers: Dict[str, str], body: bytes, variables: Dict[str, str]
) -> Answer:
    """The comparable form of an answer: status, compared headers, body (JSON if it is)."""
    names = {value: name for name, value in variables.items()}
    text = body.decode("utf-8", "surrogateescape")
    shown: Any = normalise_text(text, names)
    if headers.get("content-type", "").startswith("application/json") and body:
        try:
            shown = {"json": _normalise_value(_unordered(json.loads(body)), "", names)}
        except ValueError:
            pass
    kept = {k: headers[k] for k in COMPARED_HEADERS if k in headers}
    return {"status": status, "headers": kept, "body": shown}


def _capture(spec: Dict[str, str], body: bytes, variables: Dict[str, str]) -> None:
    try:
        parsed = json.loads(body)
        for name, field in spec.items():
            variables[name] = str(parsed[field])
    except (ValueError, KeyError, TypeError):
        pass  # a server that answers otherwise: the differences will show it


Filler = Callable[[str, int, Dict[str, str]], None]


def replay(
    port: int,
    steps: List[Dict[str, Any]],
    fill: Filler,
    on_step: Optional[Callable[..., None]] = None,
) -> List[Answer]:
    """Run every step against the server on ``port``; return the normalised answers."""
    variables: Dict[str, str] = {}
    answers: List[Answer] = []
    for step in steps:
        if "fill" in step:
            spec = step["fill"]
            fill(substitute(spec["key"], variables), spec["count"], variables)
            answers.append({"filled": spec["count"]})
            continue
        status, headers, body = exchange(port, request_bytes(step, variables))
        if "capture" in step and status < 300:
            _capture(step["capture"], body, variables)
        answer = normalise(status, headers, body, variables)
        answers.append(answer)
        if on_step is not None:
            on_step(step, answer)
    return answers


def differences(
    steps: List[Dict[str, Any]], expected: List[Answer], got: List[Answer]
) -> List[str]:
    """One line per step whose answer differs."""
    out = []
    for step, want, have in zip(steps, expected, got):
        if want != have:
            out.append(
                f"{step['name']}: server {json.dumps(want)[:300]} / other {json.dumps(have)[:300]}"
            )
    return out
