"""``ez-pixel send-test``: one real event through the SDK, and the server's answer.

The key and URL come from where the app finds them (:mod:`ez_pixel.cli.config`:
the flags, the environment, the project's ``.env``, then for the URL the hosted
server, as ``init_pixel`` does). With no key anywhere it goes to the local
collector, with the default project ``ez-pixel serve`` keeps in
``./ez-pixel.db`` (:mod:`ez_pixel.cli.localdb`). The event (type
``PixelSendTestError``) is meant to be seen: it stays among the project's
errors. ``--cleanup`` deletes its group once the server stored it, with the
project's secret (from ``~/.ezcoder/projects.json``, or that database).
"""

import argparse
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from ez_pixel.client import Client
from ez_pixel.options import Options, make_options

from .common import DEFAULT_DB, EXIT_USAGE, CliError
from .config import (
    ENV_EZCODER_KEY,
    ENV_FILE,
    HOSTED_INGEST_URL,
    LOCAL_INGEST_URL,
    Settings,
    project_env,
    project_folder,
    resolve,
)
from .localdb import serve_default_project

if TYPE_CHECKING:
    from .common import Subparsers


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class PixelSendTestError(Exception):
    """The exception ``send-test`` reports, so it is easy to recognise on the server."""


@dataclass
class Posted:
    """The server's answer to one event: status (0: unreachable), decoded body, in words."""

    status: int
    answer: Dict[str, Any]
    text: str

    @property
    def stored(self) -> bool:
        """True when the server stored the event (or already had it): any 2xx."""
        return 200 <= self.status < 300


def register(subparsers: "Subparsers") -> None:
    """Add the ``send-test`` subcommand."""
    parser = subparsers.add_parser(
        "send-test",
        help="send one test event and print what the server answered",
        description=(
            "Send one test event (PixelSendTestError) through the real SDK path "
            "(event builder, encoder, pooled transport) and print the server's "
            "answer. The key and URL are found where init_pixel() finds them: the "
            "flag, then the environment (PIXEL_PROJECT_KEY or EZCODER_PIXEL_KEY; "
            "PIXEL_INGEST_URL), then the project's .env (the first one from here up "
            "to the project's root); with a key but no URL anywhere the event goes to "
            f"the hosted server ({HOSTED_INGEST_URL}), as init_pixel() sends it. With "
            "no key anywhere it goes to the local collector "
            f"({LOCAL_INGEST_URL}), with the default project `ez-pixel serve` keeps "
            f"in {DEFAULT_DB}. The event stays among the project's errors so you can "
            "see it; --cleanup deletes it again. Exit 0 only when the event was stored."
        ),
    )
    parser.add_argument("--project-key", help="project key (default: see above)")
    parser.add_argument(
        "--ingest-url",
        help=f"ingest URL (default: PIXEL_INGEST_URL, else .env, else {HOSTED_INGEST_URL}; "
        f"with no key anywhere {LOCAL_INGEST_URL})",
    )
    parser.add_argument(
        "--cleanup",
        action="store_true",
        help="delete the test event's group once stored (needs this folder's entry "
        "in ~/.ezcoder/projects.json, written by ez-pixel install)",
    )
    parser.set_defaults(run=run_send_test)


def _describe(status: int, answer: Dict[str, Any], raw: str) -> str:
    if answer.get("duplicate"):
        return f"stored earlier: duplicate of the last event (error_id {answer.get('error_id')})"
    if "created" in answer:
        what = "new error group" if answer["created"] else "another occurrence of a known group"
        if answer.get("recurred"):
            what = "a recurrence of a resolved group (reopened)"
        return f"stored: {what} (error_id {answer.get('error_id')})"
    return f"HTTP {status}: {answer.get('error') or raw.strip()[:200]}"


def prepare_test_event(options: Options) -> Tuple[bytes, str]:
    """Build the test event through the real SDK path; return ``(body, event_id)``."""
    client = Client(options)
    try:
        try:
            raise PixelSendTestError("ez-pixel send-test: if you can read this, reporting works")
        except PixelSendTestError as exc:
            capture = client.exception_capture(exc, "error", manual=True)
        body = client.prepare(capture)
    finally:
        client.close(timeout=0)
    assert body is not None
    return body, str(json.loads(body)["event_id"])


def post_event(options: Options, body: bytes) -> Posted:
    """POST ``body`` with the SDK's transport; status 0 when the server is unreachable."""
    client = Client(options)
    try:
        answer = client.post(body)
    finally:
        client.close(timeout=0)
    if answer.status == 0:
        return Posted(0, {}, f"could not reach {options.ingest_url}: {answer.error}")
    try:
        parsed = json.loads(answer.body)
    except ValueError:
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    return Posted(answer.status, parsed, _describe(answer.status, parsed, answer.body))


def _serve_project(settings: Settings) -> Optional[Dict[str, str]]:
    """With no key anywhere and a local URL: ``serve``'s default project in ``./ez-pixel.db``."""
    if settings.key or urllib.parse.urlsplit(settings.url).hostname not in _LOOPBACK:
        return None
    project = serve_default_project(DEFAULT_DB)
    if project is not None:
        settings.key = project["key"]
        settings.key_from = f"the default project of {DEFAULT_DB} (ez-pixel serve)"
    return project


def _options(settings: Settings) -> Options:
    if not settings.key:
        raise CliError(
            "no project key: pass --project-key, set PIXEL_PROJECT_KEY or "
            f"{ENV_EZCODER_KEY}, or run it in a project `ez-pixel install` set up "
            f"(it writes {ENV_FILE}), or in the folder where `ez-pixel serve` keeps {DEFAULT_DB}",
            EXIT_USAGE,
        )
    try:
        return make_options(settings.key, settings.url)
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc).replace("ez-pixel: ", ""), code=EXIT_USAGE) from None


def run_send_test(args: argparse.Namespace) -> int:
    """Send the test event; 0 when stored, 1 when refused or unreachable, 2 for bad input."""
    from . import cleanup

    settings = resolve(project_env(Path.cwd()), args.project_key, args.ingest_url)
    folder = project_folder(Path.cwd())
    served = _serve_project(settings)
    options = _options(settings)
    plan = cleanup.plan(folder, options.ingest_url, served) if args.cleanup else None
    body, event_id = prepare_test_event(options)
    print(f"sending test event {event_id} to {options.ingest_url} ({settings.url_from})")
    print(f"  key {options.project_key[:12]}… from {settings.key_from}")
    posted = post_event(options, body)
    if posted.status == 0:
        raise CliError(posted.text)
    print(posted.text)
    if not posted.stored:
        raise CliError(f"the event was not stored ({posted.text})")
    error_id = str(posted.answer.get("error_id", ""))
    if plan is not None:
        print(cleanup.delete(plan, error_id))
    else:
        print(
            f"It stays among the project's open errors so you can see it (error {error_id}), "
            "and the ezcoder fix queue sees it too: `ez-pixel send-test --cleanup` sends one "
            "and deletes its group."
        )
    return 0
