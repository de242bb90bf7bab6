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

``.env`` is read with the SDK's own reader (:mod:`ez_pixel._environ`), so
what ``install`` writes and ``send-test`` checks is exactly what
``init_pixel`` reads; ``send-test`` finds it as ``init_pixel`` does (the first
``.env`` from the working directory up to the project's root).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional

from ez_pixel._environ import (
    ARGUMENT_SOURCE,
    DEFAULT_INGEST_URL,
    DEFAULT_SOURCE,
    ENV_EZCODER_KEY,
    Setting,
    find_dotenv,
    parse_dotenv,
    read_dotenv,
)
from ez_pixel._environ import resolve as resolve_settings

from .common import DEFAULT_URL

__all__ = [
    "ENV_EZCODER_KEY",
    "ENV_FILE",
    "HOSTED_INGEST_URL",
    "LOCAL_INGEST_URL",
    "Settings",
    "project_env",
    "project_folder",
    "read_env",
    "resolve",
]

ENV_FILE = ".env"
#: Where events go when nothing says otherwise (the ecosystem's hosted server).
HOSTED_INGEST_URL = DEFAULT_INGEST_URL
#: ``ez-pixel serve``'s ingest URL, the default for a project without a key.
LOCAL_INGEST_URL = DEFAULT_URL + "/ingest"


def read_env(text: str) -> Dict[str, str]:
    """The ez-pixel variables a ``.env`` text sets, as ``init_pixel`` reads them."""
    return parse_dotenv(text)


def project_env(start: Path) -> Dict[str, str]:
    """The ``.env`` ``init_pixel`` would read when started in ``start``, and its folder."""
    return read_dotenv(find_dotenv(str(start)))


def project_folder(start: Path) -> Path:
    """The folder of the ``.env`` found from ``start``, else ``start`` itself."""
    found = find_dotenv(str(start))
    return Path(found).parent if found else start


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
    """The key and URL from arguments, then ``environ``, then ``dotenv`` (see the module doc).

    The SDK's own precedence (:func:`ez_pixel._environ.resolve`), with the
    flags' names for arguments and the local collector as the default URL of
    a project without a key.
    """
    found = resolve_settings(key, url, dotenv=dotenv, dotenv_path=ENV_FILE, environ=environ)
    found_key = found.key.value or ""
    key_from = _flag_or(found.key, "--project-key") if found_key else ""
    if found.url.source != DEFAULT_SOURCE:
        return Settings(
            found_key, key_from, found.url.value or "", _flag_or(found.url, "--ingest-url")
        )
    if found_key:
        return Settings(found_key, key_from, HOSTED_INGEST_URL, "the default (hosted server)")
    return Settings(found_key, key_from, LOCAL_INGEST_URL, "the default (ez-pixel serve)")


def _flag_or(setting: Setting, flag: str) -> str:
    return flag if setting.source == ARGUMENT_SOURCE else setting.source
