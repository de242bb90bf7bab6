"""Where the project key and the ingest URL come from when no argument gives them.

In order: the real environment (``PIXEL_PROJECT_KEY``, then ``EZCODER_PIXEL_KEY``,
which the ecosystem's installer writes; ``PIXEL_INGEST_URL``), then the
project's ``.env`` file (the same names), then, for the URL only,
:data:`DEFAULT_INGEST_URL`, the ecosystem's hosted server.

The ``.env`` file is the first one found from the working directory upwards,
looking no further than a project-root marker (``.git``, ``pyproject.toml``,
``setup.py``, ``manage.py``) or the filesystem root. It is read, never run:
``NAME=value`` lines, an optional ``export`` in front, single or double quotes,
``#`` comments. Only the three names above are taken from it, and it never
changes ``os.environ``, so the real environment always wins.
"""

import os
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

from ._paths import upwards

ENV_PROJECT_KEY = "PIXEL_PROJECT_KEY"
#: The variable the ecosystem's installer (``ezcoder pixel install``) writes the key to.
ENV_EZCODER_KEY = "EZCODER_PIXEL_KEY"
ENV_INGEST_URL = "PIXEL_INGEST_URL"
#: The ecosystem's hosted ingest endpoint, as ``packages/pixel-py`` sets it.
DEFAULT_INGEST_URL = "https://pixel-server.ngrout70.workers.dev/ingest"

KEY_NAMES = (ENV_PROJECT_KEY, ENV_EZCODER_KEY)
DOTENV_NAMES = frozenset((ENV_PROJECT_KEY, ENV_EZCODER_KEY, ENV_INGEST_URL))
#: A directory holding one of these is a project's root: the ``.env`` search stops there.
ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "manage.py")
#: Directories climbed at most, and bytes of ``.env`` read at most.
MAX_LEVELS = 64
MAX_DOTENV_BYTES = 1_000_000


class Setting(NamedTuple):
    """A resolved value and where it came from (``"argument"``, a variable, a ``.env`` path)."""

    value: Optional[str]
    source: str


def find_dotenv(start: Optional[str] = None) -> Optional[str]:
    """The project's ``.env``: the first from ``start`` (the working directory) upwards."""
    try:
        first = os.path.abspath(start or os.getcwd())
    except OSError:  # the working directory was deleted
        return None
    for directory in upwards(first, MAX_LEVELS):
        candidate = os.path.join(directory, ".env")
        if os.path.isfile(candidate):
            return candidate
        if any(os.path.exists(os.path.join(directory, m)) for m in ROOT_MARKERS):
            return None
    return None


def _unquote(value: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        while quote == '"' and end > 0 and value[end - 1] == "\\":
            end = value.find(quote, end + 1)
        if end > 0:
            inner = value[1:end]
            return inner.replace('\\"', '"') if quote == '"' else inner
    for marker in (" #", "\t#"):  # an unquoted value ends at an inline comment
        if marker in value:
            value = value.split(marker, 1)[0]
    return value.strip()


def parse_dotenv(text: str) -> Dict[str, str]:
    """The values of the names ez-pixel reads, from the text of a ``.env`` file.

    Later lines win, as in shells. Anything else in the file is ignored.
    """
    values: Dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        name, equals, value = line.partition("=")
        name = name.strip()
        if equals and name in DOTENV_NAMES:
            values[name] = _unquote(value.strip())
    return values


def read_dotenv(path: Optional[str]) -> Dict[str, str]:
    """:func:`parse_dotenv` of the file at ``path``; empty if there is none or it is unreadable."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return parse_dotenv(handle.read(MAX_DOTENV_BYTES))
    except (OSError, ValueError):
        return {}


#: How a :class:`Setting` names its source when it is the process environment,
#: an argument, or the default.
ENVIRONMENT = "the environment"
ARGUMENT_SOURCE = "argument"
DEFAULT_SOURCE = "default"


def _first(names: Tuple[str, ...], values: Mapping[str, str], where: str) -> Optional[Setting]:
    for name in names:
        value = values.get(name, "").strip()
        if value:
            return Setting(value, f"{name} in {where}")
    return None


class Resolved(NamedTuple):
    """The key and URL a client would use, each with its source."""

    key: Setting
    url: Setting


def resolve(
    project_key: Optional[str] = None,
    ingest_url: Optional[str] = None,
    dotenv: Optional[Mapping[str, str]] = None,
    dotenv_path: str = ".env",
    environ: Optional[Mapping[str, str]] = None,
) -> Resolved:
    """Apply the precedence: argument, environment, ``.env``, then the default URL.

    ``dotenv`` gives the ``.env`` values when the caller has read them already;
    otherwise the file is looked up only if the environment leaves a gap.
    ``environ`` stands in for ``os.environ`` (``{}`` ignores the environment).
    """
    source = os.environ if environ is None else environ
    env = {name: source.get(name, "") for name in DOTENV_NAMES}
    key = (
        Setting(project_key, ARGUMENT_SOURCE)
        if project_key
        else _first(KEY_NAMES, env, ENVIRONMENT)
    )
    url = (
        Setting(ingest_url, ARGUMENT_SOURCE)
        if ingest_url
        else _first((ENV_INGEST_URL,), env, ENVIRONMENT)
    )
    if (key is None or url is None) and dotenv is None:
        dotenv_path = find_dotenv() or ""
        dotenv = read_dotenv(dotenv_path or None)
    if key is None:
        key = _first(KEY_NAMES, dotenv or {}, dotenv_path) or Setting(None, "nowhere")
    if url is None:
        url = _first((ENV_INGEST_URL,), dotenv or {}, dotenv_path) or Setting(
            DEFAULT_INGEST_URL, DEFAULT_SOURCE
        )
    return Resolved(key, url)
