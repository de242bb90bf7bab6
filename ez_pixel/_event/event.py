"""Building the wire event from a capture, and fitting it to the server's limits.

Runs on the worker thread. The fingerprint is sha256 over the exception type
and the innermost application frame's portable path, function and failing
source text; never a line number or an absolute path, so it survives
unrelated edits above the bug and differs between install locations not at all.
"""

import hashlib
import json
import os
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .._text import cut
from ..contract import FIELDS, MAX_BODY_CHARS, MAX_MESSAGE_CHARS, MAX_TYPE_CHARS
from ..options import Options
from .frames import FrameResolver
from .scrub import Scrubber
from .snapshot import KEEP_INNER, Capture, RawFrame

Event = Dict[str, Any]

#: Stack shape once trimmed to fit the body cap: innermost frames matter most.
_FIT_INNER = 20
_FIT_OUTER = 5


def _omitted_frame(count: int) -> Dict[str, Any]:
    return {"file": f"<{count} frames omitted>", "line": 0, "col": 0, "fn": "", "in_app": False}


def _occurred_at(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def fingerprint(parts: List[str]) -> str:
    """16 hex characters of sha256 over ``parts``."""
    joined = "\x1f".join(parts).encode("utf-8", "replace")
    return hashlib.sha256(joined).hexdigest()[:16]


class EventBuilder:
    """Makes wire events for one client's options."""

    def __init__(self, options: Options) -> None:
        self._options = options
        self._frames = FrameResolver(
            options.project_root, options.in_app_include, options.in_app_exclude
        )
        self._scrubber = (
            Scrubber(options.scrub_keys, options.scrub_patterns) if options.scrub else None
        )
        #: (file, line) -> (first line number, scrubbed lines): a bug recurs at one place.
        self._contexts: Dict[Tuple[str, int], Optional[Tuple[int, List[str]]]] = {}
        #: Messages quote paths too (asyncio's "coro=<f() defined at /home/me/app.py:22>").
        self._root_prefix = options.project_root.rstrip(os.sep) + os.sep

    def _portable(self, text: str) -> str:
        """``text`` with the project root's absolute path made relative, as in stacks."""
        return text.replace(self._root_prefix, "") if self._root_prefix in text else text

    def build(self, capture: Capture) -> Event:
        """The complete wire event for ``capture``, not yet size-checked."""
        stack: List[Dict[str, Any]] = [self._frames.wire_frame(raw) for raw in capture.frames]
        culprit = self._culprit(stack)
        event: Event = {
            "event_id": capture.event_id or str(uuid.uuid4()),
            "project_key": self._options.project_key,
            "fingerprint": self._fingerprint(capture, stack, culprit),
            "type": cut(capture.type_name, MAX_TYPE_CHARS),
            "message": cut(self._portable(capture.message), MAX_MESSAGE_CHARS),
            "stack": stack,
            "code_context": self._code_context(capture, stack, culprit),
            "runtime": self._options.runtime,
            "manual_report": capture.manual,
            "level": capture.level,
            "occurred_at": _occurred_at(capture.timestamp),
        }
        if capture.omitted:
            stack.insert(KEEP_INNER, _omitted_frame(capture.omitted))
        if capture.causes:
            event["causes"] = [self._cause(*cause) for cause in capture.causes]
        if capture.extra:
            for key, value in capture.extra.items():
                event.setdefault(key, value)
        if self._scrubber is not None:
            self._scrub(event, self._scrubber)
        return event

    @staticmethod
    def _scrub(event: Event, scrubber: Scrubber) -> None:
        event["message"] = scrubber.text(event["message"])
        for key in event.keys() - _WIRE_FIELDS:
            event[key] = scrubber.value(key, event[key])

    def _cause(self, type_name: str, message: str, raw: Optional[RawFrame]) -> Dict[str, Any]:
        """One chained exception: type, message, and where it was raised."""
        cause: Dict[str, Any] = {
            "type": cut(type_name, MAX_TYPE_CHARS),
            "message": cut(self._portable(message), 300),
        }
        if raw is not None:
            frame = self._frames.wire_frame(raw)
            cause.update(file=frame["file"], line=frame["line"], fn=frame["fn"])
        return cause

    @staticmethod
    def _culprit(stack: List[Dict[str, Any]]) -> Optional[int]:
        """Index of the innermost application frame, else of the innermost frame."""
        for index, frame in enumerate(stack):
            if frame["in_app"]:
                return index
        return 0 if stack else None

    def _fingerprint(
        self, capture: Capture, stack: List[Dict[str, Any]], culprit: Optional[int]
    ) -> str:
        parts = [capture.type_name]
        if capture.group is not None:
            parts.append(capture.group)
        if culprit is not None:
            frame = stack[culprit]
            text = self._frames.line_text(capture.frames[culprit])
            # Without source text, the line number is the best stable locator left.
            parts += [frame["file"], frame["fn"], text or str(frame["line"])]
        elif capture.group is None:
            parts.append(capture.message[:200])
        return fingerprint(parts)

    def _code_context(
        self, capture: Capture, stack: List[Dict[str, Any]], culprit: Optional[int]
    ) -> Optional[Dict[str, Any]]:
        if culprit is None or not stack[culprit]["in_app"]:
            return None
        frame = stack[culprit]
        raw = capture.frames[culprit]
        key = (raw[0].co_filename, frame["line"])
        if key not in self._contexts:
            if len(self._contexts) >= 512:
                self._contexts.clear()
            self._contexts[key] = self._read_context(capture.frames[culprit])
        found = self._contexts[key]
        if found is None:
            return None
        start, lines = found
        return {
            "file": frame["file"],
            "error_line": frame["line"],
            "lines": list(lines),
            "start_line": start,
        }

    def _read_context(self, raw: RawFrame) -> Optional[Tuple[int, List[str]]]:
        found = self._frames.context(raw, self._options.context_lines)
        if found is None:
            return None
        start, lines = found
        lines = [cut(line, 300) for line in lines]
        if self._scrubber is not None:
            lines = [self._scrubber.source_line(line) for line in lines]
        return start, lines


def warm_up(options: Options) -> None:
    """Build and encode one throwaway event, so what that imports lazily is loaded now."""
    encode(EventBuilder(options).build(Capture("error", "WarmUp", "", [])))


def minimal(capture: Capture, options: Options) -> Event:
    """A stackless event for a capture whose full build failed: better than none."""
    return {
        "event_id": capture.event_id or str(uuid.uuid4()),
        "project_key": options.project_key,
        "fingerprint": fingerprint([capture.type_name, capture.group or capture.message[:200]]),
        "type": cut(str(capture.type_name), MAX_TYPE_CHARS),
        "message": cut(str(capture.message), MAX_MESSAGE_CHARS),
        "stack": [],
        "code_context": None,
        "runtime": options.runtime,
        "manual_report": bool(capture.manual),
        "level": capture.level,
        "occurred_at": _occurred_at(capture.timestamp),
    }


def _dumps(event: Event) -> str:
    return json.dumps(event, ensure_ascii=True, separators=(",", ":"), default=str)


def encode(event: Event) -> bytes:
    """The event as ASCII JSON within the body cap, trimming what matters least first.

    Order: extra fields, the middle of the stack, the code context's width,
    the code context, the message, then all but the innermost frames.
    """
    body = _dumps(event)
    if len(body) <= MAX_BODY_CHARS:
        return body.encode("ascii")
    for trim in _TRIMS:
        trim(event)
        body = _dumps(event)
        if len(body) <= MAX_BODY_CHARS:
            return body.encode("ascii")
    raise ValueError("event does not fit the body cap")  # unreachable with bounded fields


def _drop_extras(event: Event) -> None:
    for key in [k for k in event if k not in _WIRE_FIELDS]:
        del event[key]


def _trim_stack_middle(event: Event) -> None:
    stack = event["stack"]
    if len(stack) > _FIT_INNER + _FIT_OUTER + 1:
        cut = len(stack) - _FIT_INNER - _FIT_OUTER
        event["stack"] = stack[:_FIT_INNER] + [_omitted_frame(cut)] + stack[-_FIT_OUTER:]


def _narrow_context(event: Event) -> None:
    context = event["code_context"]
    if context:
        error_index = context["error_line"] - context["start_line"]
        lo = max(0, error_index - 2)
        context["lines"] = [line[:120] for line in context["lines"][lo : error_index + 3]]
        context["start_line"] += lo


def _drop_context(event: Event) -> None:
    event["code_context"] = None


def _shorten_message(event: Event) -> None:
    event["message"] = cut(event["message"], 1024)


def _innermost_only(event: Event) -> None:
    event["stack"] = event["stack"][:5]
    for frame in event["stack"]:
        frame["file"] = frame["file"][:200]
        frame["fn"] = frame["fn"][:200]


_TRIMS = (
    _drop_extras,
    _trim_stack_middle,
    _narrow_context,
    _drop_context,
    _shorten_message,
    _innermost_only,
)
_WIRE_FIELDS = frozenset(FIELDS)
