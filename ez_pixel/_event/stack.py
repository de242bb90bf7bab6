"""Shaping the wire stack for a reader who sees only its first ten frames.

The fix agent prints the first ten frames of ``stack``. An error raised deep
inside a library (urllib3, Django, SQLAlchemy) would fill those ten with
library frames, so runs of library frames are collapsed: each run keeps its
innermost frame (where it was raised or where the library was entered) and
the rest become one marker frame naming the packages they belong to. A
chained exception's frames come first, as Python prints its root cause
first, followed by a marker frame saying what it caused.
"""

from typing import Any, Dict, List

from .._text import cut

Frame = Dict[str, Any]

#: Runs of library frames at least this long are collapsed into two frames.
COLLAPSE_RUN = 3
_MAX_MARKER_CHARS = 200


def is_marker(frame: Frame) -> bool:
    """Whether ``frame`` is one of ours (omitted, collapsed, chained): line 0, name in ``<>``."""
    return frame.get("line") == 0 and (
        str(frame.get("file", "")).startswith("<") or str(frame.get("fn", "")).startswith("<")
    )


def _package(path: str) -> str:
    top = path.split("/", 1)[0]
    return top[:-3] if top.endswith(".py") else top


def library_marker(frames: List[Frame]) -> Frame:
    """The frame standing for a collapsed run of library ``frames``."""
    packages: List[str] = []
    for frame in frames:
        name = _package(str(frame.get("file", "")))
        if name and name not in packages:
            packages.append(name)
    return {
        "file": cut(", ".join(packages), _MAX_MARKER_CHARS) or "<library>",
        "line": 0,
        "col": 0,
        "fn": f"<{len(frames)} library frames>",
        "in_app": False,
    }


def chain_marker(outer_type: str) -> Frame:
    """The frame between a root cause's frames and those of the exception it caused."""
    return {
        "file": "<chained exception>",
        "line": 0,
        "col": 0,
        "fn": cut(f"<the above caused {outer_type}>", _MAX_MARKER_CHARS),
        "in_app": False,
    }


def collapse_libraries(stack: List[Frame]) -> List[Frame]:
    """``stack`` with each run of 3+ library frames as its innermost frame plus a marker.

    A stack without any application frame is left whole: there is nothing of
    the app's to make room for, and the library frames are all there is.
    """
    if not any(frame["in_app"] for frame in stack):
        return stack
    shaped: List[Frame] = []
    index = 0
    while index < len(stack):
        end = index
        while end < len(stack) and not stack[end]["in_app"] and not is_marker(stack[end]):
            end += 1
        if end == index:
            shaped.append(stack[index])
            index += 1
            continue
        run = stack[index:end]
        if len(run) < COLLAPSE_RUN:
            shaped.extend(run)
        else:
            shaped += [run[0], library_marker(run[1:])]
        index = end
    return shaped
