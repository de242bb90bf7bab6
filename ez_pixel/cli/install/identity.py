"""Which project on the server this checkout is: found again, given, or registered now.

As the ezcoder installer decides it: a checkout with a key (``--project-key``,
or ``EZCODER_PIXEL_KEY``/``PIXEL_PROJECT_KEY`` in its ``.env``) and an entry
with a secret in ``~/.ezcoder/projects.json`` is reused as it is; one without
a key is registered with ``POST /api/projects`` and recorded there. A key
without an entry is used as given (events flow), but the ezcoder tools cannot
manage that project: :attr:`Identity.notes` says so.
"""

import urllib.parse
from dataclasses import dataclass, field
from typing import List, Optional

from ez_pixel.contract import PROJECT_KEY_RE

from ..common import EXIT_USAGE, CliError
from ..config import ENV_FILE, resolve
from ..ezcoder import Mapping, ProjectsFileError, find_by_path, projects_file, save_mapping
from ..management import ManagementError, register_project, server_of
from .files import Project
from .keys import env_values
from .wiring import Step


@dataclass
class Identity:
    """The project's key, URL, and id and secret when known; ``key`` empty: register it."""

    name: str
    url: str
    key: str = ""
    key_from: str = ""
    project_id: str = ""
    secret: str = ""
    reused: bool = False
    registered: bool = False
    notes: List[Step] = field(default_factory=list)
    #: None when ``projects.json`` cannot be used (it is then left alone).
    mapping_ok: bool = True

    @property
    def server(self) -> str:
        """The server's base URL (the management API's)."""
        return server_of(self.url)


def find_identity(project: Project, name: str, key: Optional[str], url: Optional[str]) -> Identity:
    """What is known before anything is written; CliError for a bad key or URL."""
    settings = resolve(env_values(project), key, url, environ={})
    parts = urllib.parse.urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"invalid ingest URL {settings.url!r}: expected http(s)://HOST[:PORT]/ingest",
            EXIT_USAGE,
        )
    if settings.key and not PROJECT_KEY_RE.match(settings.key):
        if settings.key_from == "--project-key":
            raise CliError(
                f"not a project key (pk_test_... or pk_live_...): {settings.key!r}", EXIT_USAGE
            )
        settings.key = ""  # a malformed key in .env: as if there were none (a new one is added)
    found = Identity(name=name, url=settings.url, key=settings.key, key_from=settings.key_from)
    try:
        mapping = find_by_path(project.root)
    except ProjectsFileError as exc:
        found.mapping_ok = False
        message = f"{exc}: the ezcoder tools will not see this project"
        found.notes.append(Step(message, warning=True))
        return found
    where = f"~/.ezcoder/{projects_file().name}"
    if found.key and mapping is not None and mapping.secret:
        found.project_id, found.secret, found.reused = mapping.id, mapping.secret, True
        found.notes.append(Step(f"project {mapping.id} ({mapping.name}) found in {where}"))
    elif found.key:
        found.notes.append(
            Step(
                f"this folder has no entry with a secret in {where}: events flow, but the "
                "ezcoder tools cannot see or fix this project's errors (to register it, "
                f"remove the key from {ENV_FILE} and run install again)",
                warning=True,
            )
        )
    elif mapping is not None:
        found.notes.append(
            Step(
                f"{where} has project {mapping.id} for this folder but {ENV_FILE} has no key "
                "(the server cannot give it back): a new project replaces that entry",
                warning=True,
            )
        )
    return found


def register(identity: Identity) -> None:
    """Register the project with the server and fill in its key, id and secret."""
    try:
        answer = register_project(identity.server, identity.name)
    except ManagementError as exc:
        hint = ""
        if exc.status == 0:
            hint = "; start a collector with `ez-pixel serve`, or pass --project-key"
        raise CliError(f"cannot register the project: {exc}{hint} (nothing was changed)") from None
    identity.key, identity.project_id, identity.secret = (
        answer["key"],
        answer["id"],
        answer["secret"],
    )
    identity.key_from, identity.registered = "the server (new project)", True


def record(identity: Identity, root: str) -> List[str]:
    """Write the project's entry to ``projects.json`` after a registration; what to print."""
    if not identity.registered:
        return []
    mapping = Mapping(identity.project_id, identity.name, root, identity.secret)
    if identity.mapping_ok:
        try:
            path, dropped = save_mapping(mapping)
        except ProjectsFileError as exc:
            identity.notes.append(Step(str(exc), warning=True))
        else:
            lines = [f"  recorded in {path} (with its secret; readable by you only)"]
            lines += [f"  replaced the older entry {old} for this folder" for old in dropped]
            return lines
    return [
        f"  secret: {identity.secret}",
        "  ~/.ezcoder/projects.json could not be written: keep the secret somewhere safe "
        "(the ezcoder tools need it as that file's entry).",
    ]
