"""The project's ``.env`` (the key, the ingest URL) and ``.gitignore``.

The key goes to ``PATH/.env`` as ``EZCODER_PIXEL_KEY`` (the variable the
ezcoder installer writes and ``init_pixel`` reads), and ``PIXEL_INGEST_URL``
beside it unless the URL is the hosted default; the secret never goes there
(it goes to ``~/.ezcoder/projects.json``, see :mod:`ez_pixel.cli.ezcoder`).
An existing ``.env`` is appended to and its values are kept, with one
exception: a ``PIXEL_PROJECT_KEY`` line holding the same key is renamed to
``EZCODER_PIXEL_KEY``, so that both installers and the app read one variable.
"""

import fnmatch
import re
from typing import Dict, List, Optional, Tuple

from ez_pixel.options import ENV_INGEST_URL, ENV_PROJECT_KEY

from ..config import ENV_EZCODER_KEY, ENV_FILE, HOSTED_INGEST_URL, read_env
from .files import Change, Pending, Project, Text, read_text
from .wiring import Step

GITIGNORE = ".gitignore"
_HEADER = "# ez-pixel error reporting (ez-pixel install)"


def env_values(project: Project) -> Dict[str, str]:
    """What ``PATH/.env`` sets now (empty when there is none)."""
    text, _ = read_text(project, ENV_FILE)
    return read_env(text.text) if text is not None else {}


def env_settings(key: str, url: str) -> List[Tuple[str, str]]:
    """The variables ``install`` writes to ``.env`` for ``key`` and ``url``."""
    values = [(ENV_EZCODER_KEY, key)]
    if url != HOSTED_INGEST_URL:
        values.append((ENV_INGEST_URL, url))
    return values


def _rename_line(text: str, old: str, new: str, value: str) -> Optional[str]:
    """``text`` with the line setting ``old`` to ``value`` now setting ``new``; None if absent."""
    pattern = re.compile(r"^[ \t]*(?:export[ \t]+)?" + re.escape(old) + r"[ \t]*=.*$", re.M)
    for match in pattern.finditer(text):
        if read_env(match.group(0)).get(old) == value:
            return text[: match.start()] + f"{new}={value}" + text[match.end() :]
    return None


def env_change(
    project: Project, values: List[Tuple[str, str]]
) -> Tuple[Optional[Change], List[Step]]:
    """The change setting the missing ``values`` in ``.env``, and what was found."""
    text, problem = read_text(project, ENV_FILE)
    if problem:
        names = " and ".join(name for name, _ in values)
        return None, [Step(f"{problem}; set {names} yourself", manual=True)]
    old = text.text if text is not None else None
    body = old or ""
    present = read_env(body)
    notes: List[Step] = []
    missing: List[str] = []
    reasons: List[str] = []
    for name, value in values:
        if name == ENV_EZCODER_KEY and name not in present:
            renamed = _rename_line(body, ENV_PROJECT_KEY, name, value)
            if renamed is not None:
                body, present = renamed, read_env(renamed)
                reasons.append(f"rename {ENV_PROJECT_KEY} to {name} in {ENV_FILE} (same key)")
                continue
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
    if not missing and not reasons:
        return None, notes
    original = text if text is not None else Text("")
    newline = original.newline
    if missing:
        if body and not body.endswith("\n"):
            body += newline
        lines = [] if _HEADER in body else [_HEADER]
        body += newline.join([*lines, *missing]) + newline
        names = " and ".join(line.split("=")[0] for line in missing)
        reasons.append(f"{'create' if old is None else 'append to'} {ENV_FILE}: {names}")
    return Change(ENV_FILE, old, body, original, reasons), notes


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
