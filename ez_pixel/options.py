"""Client configuration: one immutable value, resolved and validated once.

Arguments win over the environment, which wins over the project's ``.env``
(see :mod:`ez_pixel._environ` for the precedence); everything not given takes
the defaults below. Values may arrive as strings (``fileConfig``,
``dictConfig`` from YAML or env files), so numbers and lists are coerced.
"""

import os
import re
import sys
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

from ._environ import (
    ARGUMENT_SOURCE,
    DEFAULT_INGEST_URL,
    ENV_EZCODER_KEY,
    ENV_INGEST_URL,
    ENV_PROJECT_KEY,
    Setting,
    resolve,
)
from ._stderr import say_once
from .contract import MAX_RUNTIME_CHARS, PROJECT_KEY_RE

__all__ = [
    "DEFAULT_INGEST_URL",
    "ENV_DEBUG",
    "ENV_EZCODER_KEY",
    "ENV_INGEST_URL",
    "ENV_PROJECT_KEY",
    "Options",
    "make_options",
    "mask_key",
]

ENV_DEBUG = "PIXEL_DEBUG"


class Options(NamedTuple):
    """Everything a client needs to know, fixed at creation; build it with :func:`make_options`.

    Only ``project_key`` and ``ingest_url`` are required; see the README's
    configuration table for what each option does.
    """

    project_key: str
    ingest_url: str
    #: ``python-<version>``; :func:`make_options` fills it in.
    runtime: str = ""
    #: Files under this directory are the application's; their paths are sent relative to it.
    #: The working directory at creation; :func:`make_options` fills it in.
    project_root: str = ""
    #: Module prefixes always counted as application code.
    in_app_include: Tuple[str, ...] = ()
    #: Module prefixes never counted as application code.
    in_app_exclude: Tuple[str, ...] = ()
    #: Source lines sent on each side of the failing line.
    context_lines: int = 5
    #: Events waiting for delivery before new ones are dropped.
    queue_size: int = 1000
    #: Longest wait for pending events at exit and in ``close()`` without a timeout.
    shutdown_timeout: float = 2.0
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    #: Retries of one event after transient failures (backoff 0.2 s doubling).
    max_retries: int = 5
    #: Print each send, answer, retry and drop to stderr.
    debug: bool = False
    #: Proxy for the ingest URL (default: ``*_PROXY`` variables, honouring ``NO_PROXY``).
    proxy_url: Optional[str] = None
    #: CA bundle (PEM) to verify the server's certificate with, e.g. a private CA.
    ca_certs: Optional[str] = None
    #: Directory where undeliverable events wait for the server or the next process.
    spool_dir: Optional[str] = None
    spool_max_events: int = 1000
    spool_max_bytes: int = 10_000_000
    #: Also report records about responses below 500 (Django's 404s, DisallowedHost).
    report_client_errors: bool = False
    #: Replace obvious secrets in messages, extra fields and source lines.
    scrub: bool = True
    #: More key names whose values are secrets (e.g. ``"ssn"``).
    scrub_keys: Tuple[str, ...] = ()
    #: More regular expressions whose matches are secrets.
    scrub_patterns: Tuple[str, ...] = ()
    #: ``before_send(event) -> event | None``: edit or drop each event (or a
    #: ``"module:function"`` path to one), called on the delivery thread.
    before_send: Optional[Union[Callable[[Dict[str, Any]], Any], str]] = None
    #: Fraction of events sent, 0.0 to 1.0, decided on the caller's thread.
    sample_rate: float = 1.0
    #: The revision events come from (``"v1.4.2"``, a commit), appended to ``runtime``
    #: as ``rev:<release>``; default: the commit from CI/hosting variables or ``.git``.
    release: Optional[str] = None
    #: Accepted for compatibility with ez-pixel 0.1.0; has no effect.
    capture_console_errors: bool = True


_TUPLE_FIELDS = {"in_app_include", "in_app_exclude", "scrub_keys", "scrub_patterns"}
_AS_GIVEN_FIELDS = {"before_send"}


def mask_key(key: str) -> str:
    """Show enough of a project key to recognise it, never the whole of it."""
    return key[:10] + "…" if len(key) > 10 else "pk_…"


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name in _AS_GIVEN_FIELDS or value is None:
        return value
    if name in _TUPLE_FIELDS:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(str(item).strip() for item in value if str(item).strip())
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return str(value)


def _from(setting: Setting) -> str:
    return "" if setting.source == ARGUMENT_SOURCE else f" (from {setting.source})"


def _check_key(setting: Setting) -> str:
    key = setting.value
    if not key:
        raise ValueError(
            f"ez-pixel: project_key is missing: pass project_key=, or set {ENV_PROJECT_KEY} "
            f"(or {ENV_EZCODER_KEY}) in the environment or in the project's .env file"
        )
    if not isinstance(key, str) or not PROJECT_KEY_RE.match(key):
        raise ValueError(
            f"ez-pixel: project_key {mask_key(str(key))!r}{_from(setting)} is invalid: it must be "
            "'pk_live_' or 'pk_test_' followed by 1-128 letters, digits, '_' or '-'"
        )
    return key


#: scheme://[userinfo@]host[:port][/path...]; a regex, so init_pixel need not import urllib.parse.
_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:[^/?#@]*@)?"
    r"(?P<host>\[[^\]/?#]*\]|[^:/?#\[\]]*)(?::(?P<port>[^/?#]*))?(?:[/?#].*)?$",
    re.DOTALL,
)


def _check_url(setting: Setting) -> str:
    url = setting.value
    shown = f"{url!r}{_from(setting)}"
    match = _URL.match(str(url))
    if match is None or match.group("scheme").lower() not in ("http", "https"):
        raise ValueError(
            f"ez-pixel: ingest_url {shown} is invalid: the scheme must be http or https"
        )
    host = match.group("host").strip("[]")
    if not host:
        raise ValueError(f"ez-pixel: ingest_url {shown} is invalid: it has no host")
    port = match.group("port")
    if port and not (port.isdigit() and int(port) < 65536):
        raise ValueError(f"ez-pixel: ingest_url {shown} is invalid: bad port {port!r}")
    if match.group("scheme").lower() == "http" and not _is_loopback(host):
        say_once(
            f"plain-http:{host}",
            f"sending events to {host} over plain http: anyone on the way can read them; use https",
        )
    return str(url)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_options(
    project_key: Optional[str] = None,
    ingest_url: Optional[str] = None,
    *,
    runtime: Optional[str] = None,
    **options: Any,
) -> Options:
    """Build validated :class:`Options` from arguments, the environment and the project's ``.env``.

    The key comes from ``project_key``, else ``PIXEL_PROJECT_KEY``, else
    ``EZCODER_PIXEL_KEY``, else the same names in ``.env``; the URL from
    ``ingest_url``, else ``PIXEL_INGEST_URL`` (environment, then ``.env``),
    else :data:`DEFAULT_INGEST_URL`.

    Raises ``ValueError`` naming the bad key or URL, where it came from and
    why, and ``TypeError`` for an option ez-pixel does not know (a typo would
    otherwise be silent).
    """
    resolved = resolve(project_key, ingest_url)
    values: Dict[str, Any] = {
        "project_key": _check_key(resolved.key),
        "ingest_url": _check_url(resolved.url),
    }
    version = ".".join(str(part) for part in sys.version_info[:3])
    values["runtime"] = str(runtime or f"python-{version}")[:MAX_RUNTIME_CHARS]
    values["project_root"] = os.getcwd()
    if "debug" not in options and os.environ.get(ENV_DEBUG):
        options["debug"] = os.environ[ENV_DEBUG]
    defaults = Options._field_defaults
    for name, value in options.items():
        if name not in defaults or name == "runtime":
            raise TypeError(f"ez-pixel: unknown option {name!r}")
        values[name] = _coerce(name, value, defaults[name])
    if "project_root" in values:
        values["project_root"] = os.path.abspath(values["project_root"])
    rate = values.get("sample_rate", 1.0)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"ez-pixel: sample_rate must be between 0.0 and 1.0, not {rate!r}")
    return Options(**values)
