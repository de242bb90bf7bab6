"""Building the wire event from a capture: frames, fingerprint, code context, scrubbing.

Runs on the worker thread. Frames are made portable by :mod:`.frames`, the
fingerprint is :mod:`.fingerprint`'s, secrets go through :mod:`.scrub`, and
:mod:`.fit` cuts the result to the server's body cap and encodes it.
"""

import os
import time
from typing import Any, Dict, List, Optional, Tuple

from .._text import cut, units
from ..contract import FIELDS, MAX_MESSAGE_CHARS, MAX_TYPE_CHARS
from ..options import Options
from .fingerprint import fingerprint, parameterise
from .fit import Event, encode, omitted_frame
from .frames import FrameResolver
from .ids import new_event_id
from .revision import runtime_with_revision
from .scrub import Scrubber
from .snapshot import KEEP_INNER, Capture, CapturedFrame, Cause, RawFrame, module_name, type_name
from .stack import chain_marker, collapse_libraries

Frame = Dict[str, Any]

#: How the root cause is appended to the message: after it, so that the
#: outer message keeps the first 100 characters lists show.
CAUSE_SEPARATOR = "; "
#: Longest root-cause text quoted in the message, and the whole section.
MAX_CAUSE_TEXT = 200
MAX_CAUSE_SECTION = 400


def _occurred_at(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _culprit(stack: List[Frame]) -> Optional[int]:
    """Index of the innermost application frame, else of the innermost frame."""
    for index, frame in enumerate(stack):
        if frame["in_app"]:
            return index
    return 0 if stack else None


class _Chain:
    """One exception's frames as captured and as wire frames, and its culprit's index."""

    __slots__ = ("culprit", "raw", "wire")

    def __init__(self, captured: List[CapturedFrame], resolver: FrameResolver) -> None:
        self.raw: List[RawFrame] = resolver.locate(captured)
        self.wire: List[Frame] = [resolver.wire_frame(frame) for frame in self.raw]
        self.culprit = _culprit(self.wire)

    def app_culprit(self) -> Optional[int]:
        """The culprit's index when it is application code, else None."""
        if self.culprit is not None and self.wire[self.culprit]["in_app"]:
            return self.culprit
        return None


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
        #: The event's ``runtime``: Python's version and the app's revision, if known.
        self.runtime = runtime_with_revision(
            options.runtime, options.project_root, getattr(options, "release", None)
        )
        #: (file, line) -> (first line number, scrubbed lines): a bug recurs at one place.
        self._contexts: Dict[Tuple[str, int], Optional[Tuple[int, List[str]]]] = {}
        self._key_block_cache: Dict[str, Dict[int, str]] = {}
        #: Messages quote paths too (asyncio's "coro=<f() defined at /home/me/app.py:22>").
        self._root_prefix = options.project_root.rstrip(os.sep) + os.sep

    def _portable(self, text: str) -> str:
        """``text`` with the project root's absolute path made relative, as in stacks."""
        return text.replace(self._root_prefix, "") if self._root_prefix in text else text

    def _clean(self, text: str) -> str:
        """Runtime text made portable and scrubbed of secrets."""
        text = self._portable(text)
        return self._scrubber.text(text) if self._scrubber is not None else text

    def build(self, capture: Capture) -> Event:
        """The complete wire event for ``capture``, not yet size-checked."""
        outer = _Chain(capture.frames, self._frames)
        root: Optional[Cause] = capture.causes[-1] if capture.causes else None
        cause = _Chain(root[2], self._frames) if root is not None else None
        # The root cause's innermost app frame is where the failure started: the
        # agent's "Location:" and code window point there (docs/event.md says why).
        if cause is not None and cause.app_culprit() is not None:
            site: Tuple[_Chain, Optional[int]] = (cause, cause.app_culprit())
        else:
            site = (outer, outer.app_culprit())
        event: Event = {
            "event_id": capture.event_id or new_event_id(),
            "project_key": self._options.project_key,
            "fingerprint": self._fingerprint(capture, outer, root, cause),
            "type": capture.type_name,
            "message": self._message(capture, root, cause),
            "stack": self._stack(capture, outer, cause),
            "code_context": self._code_context(*site),
            "runtime": self.runtime,
            "manual_report": capture.manual,
            "level": capture.level,
            "occurred_at": _occurred_at(capture.timestamp),
        }
        if capture.causes:
            chains = [None] * (len(capture.causes) - 1) + [cause]  # the root's is built already
            event["causes"] = [self._cause(c, chain) for c, chain in zip(capture.causes, chains)]
        if capture.extra:
            for key, value in capture.extra.items():
                event.setdefault(key, value)
        if self._scrubber is not None:
            for key in event.keys() - _WIRE_FIELDS:
                event[key] = self._scrubber.value(key, event[key])
        return event

    def _stack(self, capture: Capture, outer: _Chain, cause: Optional[_Chain]) -> List[Frame]:
        stack = outer.wire
        if capture.omitted:
            stack.insert(KEEP_INNER, omitted_frame(capture.omitted))
        if cause is not None and cause.wire:
            stack = cause.wire + [chain_marker(capture.type_name)] + stack
        return collapse_libraries(stack)

    def _message(self, capture: Capture, root: Optional[Cause], cause: Optional[_Chain]) -> str:
        """The message, then the quoted root cause: ``...; caused by T('text') at f.py:12``."""
        text = self._clean(capture.message)
        if root is None or cause is None:
            return cut(text, MAX_MESSAGE_CHARS)
        section = self._cause_section(root, cause)
        text = cut(text, MAX_MESSAGE_CHARS - units(section) - len(CAUSE_SEPARATOR))
        return f"{text}{CAUSE_SEPARATOR}{section}" if text else section

    def _cause_section(self, root: Cause, cause: _Chain) -> str:
        # Untrusted text for an agent with a shell: quoted as Python's repr prints it
        # (newlines and control characters escaped), capped and scrubbed.
        text = cut(self._clean(root[1]), MAX_CAUSE_TEXT)
        name = type_name(root[0])
        section = f"caused by {name}({text!r})" if text else f"caused by {name}()"
        if cause.culprit is not None:
            frame = cause.wire[cause.culprit]
            section += f" at {frame['file']}:{frame['line']}"
        return cut(section, MAX_CAUSE_SECTION)

    def _cause(self, chained: Cause, chain: Optional[_Chain]) -> Dict[str, Any]:
        """One chained exception: type, message, and where in the app it was raised."""
        cause: Dict[str, Any] = {
            "type": type_name(chained[0]),
            "message": cut(self._portable(chained[1]), 300),
        }
        if chain is None:
            chain = _Chain(chained[2], self._frames)
        if chain.culprit is not None:
            frame = chain.wire[chain.culprit]
            cause.update(file=frame["file"], line=frame["line"], fn=frame["fn"])
        return cause

    def _locator(self, chain: _Chain, index: int) -> List[str]:
        """Where a frame is, as the fingerprint sees it: the same on every machine and Python.

        The function's plain name (``co_qualname`` exists only on 3.11+) and the
        stripped failing line; the line number only when the source cannot be read.
        """
        raw, frame = chain.raw[index], chain.wire[index]
        text = self._frames.line_text(raw)
        return [frame["file"], raw[0].co_name, text or str(frame["line"])]

    def _fingerprint(
        self, capture: Capture, outer: _Chain, root: Optional[Cause], cause: Optional[_Chain]
    ) -> str:
        parts = [capture.type_name]
        if capture.group is not None:
            parts.append(parameterise(capture.group))
        if outer.culprit is not None:
            parts += self._locator(outer, outer.culprit)
        elif capture.group is None:
            parts.append(parameterise(capture.message))
        if root is not None and cause is not None:
            parts += ["caused by", type_name(root[0])]
            if cause.culprit is not None:
                parts += self._locator(cause, cause.culprit)
        return fingerprint(parts)

    def _code_context(self, chain: _Chain, index: Optional[int]) -> Optional[Dict[str, Any]]:
        if index is None:
            return None
        frame, raw = chain.wire[index], chain.raw[index]
        key = (raw[0].co_filename, frame["line"])
        if key not in self._contexts:
            if len(self._contexts) >= 512:
                self._contexts.clear()
            self._contexts[key] = self._read_context(raw)
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
            scrubber = self._scrubber
            blocks = self._key_blocks(raw)
            lines = [
                blocks.get(number) or scrubber.source_line(line)
                for number, line in enumerate(lines, start)
            ]
        return start, lines

    def _key_blocks(self, raw: RawFrame) -> Dict[int, str]:
        """Lines of ``raw``'s file inside private key blocks (see ``Scrubber.key_block_lines``)."""
        filename = raw[0].co_filename
        blocks = self._key_block_cache.get(filename)
        if blocks is None:
            source = FrameResolver.source(filename, module_name(raw)) or []
            blocks = Scrubber.key_block_lines(source)
            if len(self._key_block_cache) >= 512:
                self._key_block_cache.clear()
            self._key_block_cache[filename] = blocks
        return blocks


def warm_up(options: Options) -> None:
    """Build and encode one throwaway event, so what that imports lazily is loaded now."""
    encode(EventBuilder(options).build(Capture("error", "WarmUp", "", [])))


def minimal(capture: Capture, options: Options, runtime: Optional[str] = None) -> Event:
    """A stackless event for a capture whose full build failed: better than none.

    ``runtime`` is the builder's (with the revision) when there is one.
    """
    return {
        "event_id": capture.event_id or new_event_id(),
        "project_key": options.project_key,
        "fingerprint": fingerprint(
            [capture.type_name, parameterise(capture.group or capture.message)]
        ),
        "type": cut(str(capture.type_name), MAX_TYPE_CHARS),
        "message": cut(str(capture.message), MAX_MESSAGE_CHARS),
        "stack": [],
        "code_context": None,
        "runtime": runtime or cut(str(options.runtime), 64),
        "manual_report": bool(capture.manual),
        "level": capture.level,
        "occurred_at": _occurred_at(capture.timestamp),
    }


_WIRE_FIELDS = frozenset(FIELDS)
