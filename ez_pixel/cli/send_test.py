"""``ez-pixel send-test``: one real event through the SDK, and the server's answer."""

import argparse
import json
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from ez_pixel._delivery.retry import is_success
from ez_pixel.client import Client
from ez_pixel.options import ENV_INGEST_URL, ENV_PROJECT_KEY, Options, make_options

from .common import CliError

if TYPE_CHECKING:
    from .common import Subparsers


class PixelSendTestError(Exception):
    """The exception ``send-test`` reports, so it is easy to recognise on the server."""


def register(subparsers: "Subparsers") -> None:
    """Add the ``send-test`` subcommand."""
    parser = subparsers.add_parser(
        "send-test",
        help="send one test event and print what the server answered",
        description=(
            "Send one test event through the real SDK path (event builder, "
            "encoder, pooled transport) and print the server's answer. Exit 0 "
            "only when the event was stored."
        ),
    )
    parser.add_argument("--project-key", help=f"project key (default: ${ENV_PROJECT_KEY})")
    parser.add_argument("--ingest-url", help=f"ingest URL (default: ${ENV_INGEST_URL})")
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
        raise PixelSendTestError("ez-pixel send-test: if you can read this, reporting works")
    except PixelSendTestError as exc:
        capture = client.exception_capture(exc, "error", manual=True)
    body = client.prepare(capture)
    assert body is not None
    return body, str(json.loads(body)["event_id"])


def post_test_event(options: Options, body: bytes) -> Tuple[int, str]:
    """POST ``body`` with the SDK's transport: ``(status, what happened)``, 0 if unreachable."""
    from ez_pixel._delivery.transport import Transport

    transport = Transport(options)
    try:
        answer = transport.post(body)
    finally:
        transport.close()
    if answer.status == 0:
        return 0, f"could not reach {options.ingest_url}: {answer.error}"
    try:
        parsed = json.loads(answer.body)
    except ValueError:
        parsed = {}
    return answer.status, _describe(
        answer.status, parsed if isinstance(parsed, dict) else {}, answer.body
    )


def send_test_event(
    project_key: Optional[str] = None, ingest_url: Optional[str] = None
) -> Tuple[bool, str]:
    """Send one test event; ``(stored, the server's answer in words)``.

    Missing arguments come from ``PIXEL_PROJECT_KEY``/``PIXEL_INGEST_URL``.
    Raises ``ValueError`` for a malformed key or URL.
    """
    options = make_options(project_key, ingest_url)
    body, event_id = prepare_test_event(options)
    status, text = post_test_event(options, body)
    return is_success(status), f"test event {event_id}: {text}"


def run_send_test(args: argparse.Namespace) -> int:
    """Send the test event; 0 when stored, 1 when refused or unreachable, 2 for bad input."""
    try:
        options = make_options(args.project_key, args.ingest_url)
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc).replace("ez-pixel: ", ""), code=2) from None
    body, event_id = prepare_test_event(options)
    print(f"sending test event {event_id} to {options.ingest_url}")
    status, text = post_test_event(options, body)
    if status == 0:
        raise CliError(text)
    print(text)
    if not is_success(status):
        raise CliError(f"the event was not stored ({text})")
    return 0
