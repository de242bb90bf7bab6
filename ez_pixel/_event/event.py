"""Building the wire event from a capture: frames, fingerprint, code context, scrubbing.

Runs on the worker thread. Frames are made portable by :mod:`.frames`, the
fingerprint is :mod:`.fingerprint`'s, secrets go through :mod:`.scrub`, and
:mod:`.fit` cuts the result to the server's body cap and encodes it.
"""

import os
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .._text import cut
from ..contract import FIELDS, MAX_MESSAGE_CHARS, MAX_TYPE_CHARS
from ..options import Options
from .fingerprint import fingerprint
from .fit import Event, encode, omitted_frame
from .frames import FrameResolver
from .scrub import Scrubber
from .snapshot import KEEP_INNER, Capture, RawFrame


def _occurred_at(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


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
            stack.insert(KEEP_INNER, omitted_frame(capture.omitted))
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


_WIRE_FIELDS = frozenset(FIELDS)
