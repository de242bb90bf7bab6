"""Where ``install`` and ``send-test`` find a project's key and ingest URL.

The same places ``init_pixel()`` looks, in the same order, so the commands
test what the app will do:

- the key: ``--project-key``, then ``PIXEL_PROJECT_KEY`` and
  ``EZCODER_PIXEL_KEY`` in the environment, then the same two in the
  project's ``.env``;
- the URL: ``--ingest-url``, then ``PIXEL_INGEST_URL`` in the environment,
  then in ``.env``; when none is set, the hosted server if a key was found
  (that is where the app sends), else the local collector ``ez-pixel serve``
  runs (a project with no key yet is set up against it).

``.env`` is read as the ezcoder tools and ``init_pixel`` read it: ``NAME=value``
lines, ``export`` and quotes allowed, ``#`` comments.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional

from ez_pixel.options import ENV_INGEST_URL, ENV_PROJECT_KEY

from .common import DEFAULT_URL

#: The variable the ezcoder installer writes the key to; install writes it too.
ENV_EZCODER_KEY = "EZCODER_PIXEL_KEY"
ENV_FILE = ".env"
#: Where events go when nothing says otherwise (the ecosystem's hosted server).
HOSTED_INGEST_URL = "https://pixel-server.ngrout70.workers.dev/ingest"
#: ``ez-pixel serve``'s ingest URL, the default for a project without a key.
LOCAL_INGEST_URL = DEFAULT_URL + "/ingest"
KEY_VARIABLES = (ENV_PROJECT_KEY, ENV_EZCODER_KEY)

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


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


def read_env_file(folder: Path) -> Dict[str, str]:
    """What ``folder/.env`` sets (empty when it is missing or unreadable)."""
    try:
        return read_env((folder / ENV_FILE).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return {}


@dataclass
class Settings:
    """A key (may be empty) and an ingest URL, and where each came from."""

    key: str
    key_from: str
    url: str
    url_from: str


def resolve(
    dotenv: Mapping[str, str],
    key: Optional[str] = None,
    url: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> Settings:
    """The key and URL from arguments, then ``environ``, then ``dotenv`` (see the module doc)."""
    env = os.environ if environ is None else environ
    found_key, key_from = (key, "--project-key") if key else ("", "")
    if not found_key:
        for source, values in (("the environment", env), (ENV_FILE, dotenv)):
            name = next((n for n in KEY_VARIABLES if values.get(n)), None)
            if name is not None:
                found_key, key_from = values[name], f"{name} in {source}"
                break
    if url:
        return Settings(found_key, key_from, url, "--ingest-url")
    for source, values in (("the environment", env), (ENV_FILE, dotenv)):
        if values.get(ENV_INGEST_URL):
            where = f"{ENV_INGEST_URL} in {source}"
            return Settings(found_key, key_from, values[ENV_INGEST_URL], where)
    if found_key:
        return Settings(found_key, key_from, HOSTED_INGEST_URL, "the default (hosted server)")
    return Settings(found_key, key_from, LOCAL_INGEST_URL, "the default (ez-pixel serve)")
