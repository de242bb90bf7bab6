"""The project key: registered with the server, written to ``.env``, kept out of git.

``POST <server>/api/projects {"name"}`` answers ``{"id", "key", "secret"}``
(the server is the ingest URL's scheme, host and port). The key and the ingest
URL go to ``PATH/.env``; the secret is only ever printed. An existing ``.env``
is appended to, never rewritten: a variable it already sets is left as it is.
"""

import fnmatch
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

from .files import Change, InstallError, Pending, Project, Text, read_text
from .wiring import Step

DEFAULT_INGEST_URL = "http://127.0.0.1:8765/ingest"
ENV_FILE = ".env"
GITIGNORE = ".gitignore"
TIMEOUT = 10.0
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def server_of(ingest_url: str) -> str:
    """``http://host:port`` of an ingest URL."""
    parts = urllib.parse.urlsplit(ingest_url)
    return f"{parts.scheme}://{parts.netloc}"


def register_project(server: str, name: str, timeout: float = TIMEOUT) -> Dict[str, Any]:
    """``POST /api/projects`` and return ``{"id", "key", "secret"}``; InstallError on failure."""
    body = json.dumps({"name": name}).encode("utf-8")
    request = urllib.request.Request(
        server + "/api/projects",
        data=body,
        headers={"content-type": "application/json", "accept": "application/json"},
        method="POST",
    )
    handlers = []
    if urllib.parse.urlsplit(server).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))  # a local server: no proxy
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:200]
        raise InstallError(
            f"{server} refused to register the project: HTTP {exc.code} {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InstallError(
            f"cannot reach {server} to register the project ({reason}); "
            "start a collector with `ez-pixel serve`, or pass --project-key"
        ) from None
    except ValueError:
        raise InstallError(f"{server} did not answer JSON to POST /api/projects") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("key"), str):
        raise InstallError(f"{server} answered POST /api/projects without a project key")
    return answer


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return re.split(r"\s+#", value, maxsplit=1)[0]


def read_env(text: str) -> Dict[str, str]:
    """The ``NAME=value`` pairs of a ``.env`` text (``export``, quotes and comments allowed)."""
    found: Dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match:
            found[match.group(1)] = _unquote(match.group(2))
    return found


def env_values(project: Project) -> Dict[str, str]:
    """What ``PATH/.env`` sets now (empty when there is none)."""
    text, _ = read_text(project, ENV_FILE)
    return read_env(text.text) if text is not None else {}


def env_change(
    project: Project, values: List[Tuple[str, str]]
) -> Tuple[Optional[Change], List[Step]]:
    """The change appending the missing ``values`` to ``.env``, and what was found."""
    text, problem = read_text(project, ENV_FILE)
    if problem:
        names = " and ".join(name for name, _ in values)
        return None, [Step(f"{problem}; set {names} yourself", manual=True)]
    old = text.text if text is not None else None
    present = read_env(old or "")
    notes: List[Step] = []
    missing: List[str] = []
    for name, value in values:
        if name not in present:
            missing.append(f"{name}={value}")
        elif present[name] == value:
            notes.append(Step(f"{ENV_FILE} already sets {name}"))
        else:
            notes.append(
                Step(
                    f"{ENV_FILE} sets {name} to another value: left as it is "
                    f"({present[name]!r}, not {value!r})",
                    warning=True,
                )
            )
    if not missing:
        return None, notes
    original = text if text is not None else Text("")
    newline = original.newline
    body = old or ""
    if body and not body.endswith("\n"):
        body += newline
    lines = ["# ez-pixel error reporting (ez-pixel install)", *missing]
    new = body + newline.join(lines) + newline
    names = " and ".join(line.split("=")[0] for line in missing)
    what = "create" if old is None else "append to"
    return Change(ENV_FILE, old, new, original, [f"{what} {ENV_FILE}: {names}"]), notes


def gitignore_ignores_env(text: str) -> bool:
    """True when a root ``.gitignore`` text ignores the file ``.env`` (last match wins)."""
    ignored = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.endswith("/"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.lstrip("/")
        if pattern.startswith("**/"):
            pattern = pattern[3:]
        if "/" in pattern:
            continue
        if fnmatch.fnmatchcase(ENV_FILE, pattern):
            ignored = not negate
    return ignored


def gitignore_step(pending: Pending) -> Optional[Step]:
    """Plan adding ``.env`` to an existing ``.gitignore``; None when it already ignores it."""
    text, problem = pending.text(GITIGNORE)
    if problem:
        return Step(problem, manual=True)
    if text is None:
        return Step(f"no {GITIGNORE} here: make sure {ENV_FILE} is never committed")
    if gitignore_ignores_env(text):
        return None
    newline = pending.newline(GITIGNORE)
    body = text if not text or text.endswith("\n") else text + newline
    message = f"add {ENV_FILE} to {GITIGNORE} (it holds the project key)"
    pending.update(GITIGNORE, body + ENV_FILE + newline, message)
    return Step(message, changed=True)
