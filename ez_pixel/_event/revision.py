"""Which revision of the code an error came from, appended to ``runtime``.

The server keeps ``runtime`` and the fix agent prints it verbatim on its
``Runtime:`` line, so ``python-3.12.3 rev:1a2b3c4d5e6f`` tells the agent which
commit failed. The revision is, first found wins: the ``release`` option; a
commit from the environment variables CI and hosting platforms set; the
commit the project's ``.git`` points at, read from its files (no ``git``
subprocess); Cloud Run's revision name. ``+dirty`` is never added: knowing it
means comparing the work tree with the index, which is not cheap.
"""

import os
import re
from typing import Optional

from .._paths import upwards
from .._text import cut, units
from ..contract import MAX_RUNTIME_CHARS

#: Commit variables of CI systems and hosting platforms, most specific first.
COMMIT_VARIABLES = (
    "GITHUB_SHA",  # GitHub Actions
    "CI_COMMIT_SHA",  # GitLab CI
    "BITBUCKET_COMMIT",
    "CIRCLE_SHA1",
    "BUILDKITE_COMMIT",
    "TRAVIS_COMMIT",
    "DRONE_COMMIT_SHA",
    "HEROKU_SLUG_COMMIT",  # Heroku (dyno metadata)
    "SOURCE_VERSION",  # Heroku builds
    "RENDER_GIT_COMMIT",
    "VERCEL_GIT_COMMIT_SHA",
    "RAILWAY_GIT_COMMIT_SHA",
    "CF_PAGES_COMMIT_SHA",
    "GIT_COMMIT",  # Jenkins
    "COMMIT_SHA",  # Cloud Build, Koyeb and others
)
#: Not a commit, but the deployed revision's name: better than nothing.
FALLBACK_VARIABLES = ("K_REVISION",)

#: Hex digits of a commit shown: enough to be unique in any real repository.
SHORT_SHA = 12
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
#: Directories searched upwards from the project root for ``.git``.
_MAX_UP = 32
_MAX_READ = 1_000_000


def runtime_with_revision(runtime: str, project_root: str, release: Optional[str]) -> str:
    """``runtime`` plus `` rev:<revision>`` when one is known, within the server's 64 units."""
    revision = release if release else find_revision(project_root)
    if not revision:
        return cut(runtime, MAX_RUNTIME_CHARS)
    suffix = " rev:"
    room = MAX_RUNTIME_CHARS - units(runtime) - len(suffix)
    if room < 7:  # a runtime too long to share: keep it, drop the revision
        return cut(runtime, MAX_RUNTIME_CHARS)
    return runtime + suffix + cut(_clean(revision), room)


def _clean(revision: str) -> str:
    """One line, no spaces (the agent reads ``runtime`` on one line), a commit shortened."""
    revision = "-".join(revision.split())
    return revision[:SHORT_SHA].lower() if _SHA.match(revision) else revision


def find_revision(project_root: str) -> Optional[str]:
    """The commit (or revision name) the running code comes from; None when unknown."""
    for name in COMMIT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    try:
        commit = git_head(project_root)
    except (OSError, ValueError):
        commit = None
    if commit:
        return commit
    for name in FALLBACK_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _read(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read(_MAX_READ).decode("utf-8", "replace")


def git_dir(start: str) -> Optional[str]:
    """The git directory of the repository holding ``start`` (a ``.git`` file may point to it)."""
    for directory in upwards(start, _MAX_UP):
        candidate = os.path.join(directory, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):  # a worktree or submodule: "gitdir: <path>"
            text = _read(candidate).strip()
            if text.startswith("gitdir:"):
                target = text[len("gitdir:") :].strip()
                return os.path.normpath(os.path.join(directory, target))
            return None
    return None


def git_head(project_root: str) -> Optional[str]:
    """The commit HEAD names, read from the files (HEAD, the ref, packed-refs); None if unknown."""
    gitdir = git_dir(project_root)
    if gitdir is None:
        return None
    common = gitdir
    commondir = os.path.join(gitdir, "commondir")
    if os.path.isfile(commondir):  # a linked worktree keeps its refs in the main git directory
        common = os.path.normpath(os.path.join(gitdir, _read(commondir).strip()))
    head = _read(os.path.join(gitdir, "HEAD")).strip()
    for _ in range(8):  # symbolic refs may point at symbolic refs; bounded
        if not head.startswith("ref:"):
            return head if _SHA.match(head) else None
        ref = head[len("ref:") :].strip()
        if ".." in ref.split("/"):
            return None
        head = _resolve_ref(gitdir, common, ref) or ""
    return None


def _resolve_ref(gitdir: str, common: str, ref: str) -> Optional[str]:
    for base in (gitdir, common):
        path = os.path.join(base, *ref.split("/"))
        if os.path.isfile(path):
            return _read(path).strip()
    packed = os.path.join(common, "packed-refs")
    if os.path.isfile(packed):
        for line in _read(packed).splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _SHA.match(sha):
                return sha
    return None
