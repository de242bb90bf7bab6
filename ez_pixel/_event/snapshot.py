"""What the caller's thread hands the event stage: one error, as the caller saw it.

The capture stage (:mod:`ez_pixel._capture`) fills a :class:`Capture` on the
application's thread; the event stage turns it into a wire event on the
worker. The value lives here, with its reader, so that imports run one way
(capture → event → delivery).

The caller's thread keeps only what could change or vanish, in its rawest
form: the exception's class (not its printed name), its text and the log
message apart (joined later), and for each frame the code object and the
offset of the instruction it was running (the line number is looked up on
the worker, see :func:`line_of`). Code objects and classes are shared and
small; holding them keeps no locals or frames alive.
"""

import time
from types import CodeType
from typing import Any, Dict, List, Optional, Tuple, Union

from .._delivery.job import Job
from .._text import cut
from ..contract import MAX_MESSAGE_CHARS, MAX_TYPE_CHARS

#: A frame with its line number: code, line, instruction offset, globals.
RawFrame = Tuple[CodeType, int, int, Any]

#: One frame as captured: code object, offset in bytes of the instruction it
#: was running (``tb_lasti``/``f_lasti``), and the frame's globals (a module's
#: namespace, alive anyway; read for ``__name__`` on the worker). A frame of
#: a traceback a library imitated comes with its line, as a ``RawFrame``.
CapturedFrame = Union[Tuple[CodeType, int, Any], RawFrame]

#: What an event's type is made from: the exception's class, or a name
#: (``LogMessage``, ``ManualReport``).
Kind = Union[type, str]

#: A chained exception: its class, its text and its innermost frames (innermost first).
Cause = Tuple[Kind, str, List[CapturedFrame]]

#: Frames kept from each end of a deeper stack (a RecursionError has ~1,000).
KEEP_INNER = 80
KEEP_OUTER = 20

#: What flood control counts a capture as: cheap, no hashing of code.
FloodKey = Tuple[object, ...]

#: Modules whose classes Python's traceback prints bare (``KeyError``, not ``builtins.KeyError``).
_BARE_MODULES = ("builtins", "__main__")


def flood_key(kind: Kind, frames: List[CapturedFrame], group: Optional[str] = None) -> FloodKey:
    """What makes two captures "the same error" for the flood gate: type and innermost frame."""
    if frames:
        innermost = frames[0]
        return key_at(kind, innermost[0], innermost[1], group)
    return (kind, group)


def key_at(kind: Kind, code: CodeType, where: int, group: Optional[str] = None) -> FloodKey:
    """The flood key of an error of ``kind`` raised at offset (or line) ``where`` of ``code``."""
    return (kind, id(code), where, group)


def type_name(kind: Kind) -> str:
    """The event's ``type``: a class as Python's traceback prints it, a name as it is.

    ``module.QualName`` (``sqlite3.OperationalError``,
    ``django.db.utils.OperationalError``); builtins and ``__main__`` classes bare.
    """
    if isinstance(kind, str):
        return cut(kind, MAX_TYPE_CHARS)
    try:
        name = kind.__qualname__
        if not isinstance(name, str) or not name:
            return "Exception"
        module = kind.__module__
        if isinstance(module, str) and module and module not in _BARE_MODULES:
            name = f"{module}.{name}"
        return cut(name, MAX_TYPE_CHARS)
    except Exception:
        return "Exception"


def combine_message(log_message: Optional[str], exc_text: str, limit: int) -> str:
    """The log message and the exception's text, once each, cut to ``limit``."""
    if log_message:  # "Exception in ASGI application\n" (uvicorn) must not end in a newline
        log_message = log_message.rstrip()
    if not log_message or log_message == exc_text:
        text = exc_text
    elif not exc_text or exc_text in log_message:
        text = log_message
    else:
        text = f"{log_message}: {exc_text}"
    return cut(text, limit)


def format_log_message(template: str, args: Any) -> str:
    """A log message as ``LogRecord.getMessage`` makes it; what failed when it cannot."""
    try:
        return str(template) % args if args else str(template)
    except Exception:  # a %-format mismatch must not lose the report
        try:
            return f"{template!s} (formatting failed; args={args!r})"
        except Exception:
            return "<unformattable log message>"


class Capture(Job):
    """One error as the caller saw it, waiting in the queue to become an event.

    The capture stage makes it with the frames, the exception's text and the
    flood key; whoever captured it adds the log message and the extra fields
    before it is queued. It is the delivery job itself (its ``key`` is the
    flood key): queueing an error allocates nothing more.
    """

    # Not slotted: the fields most captures leave at their default are read
    # from the class, so the app's thread stores only what it has.
    #: For message events: what groups them besides the call site.
    group: Optional[str] = None
    manual: bool = False
    #: The log call's message, joined with :attr:`text` into :attr:`message`.
    log_message: Optional[str] = None
    #: Arguments still to be %-formatted into :attr:`log_message` (values whose
    #: text cannot change: the worker formats them).
    log_args: Tuple[Any, ...] = ()
    extra: Optional[Dict[str, Any]] = None
    event_id: Optional[str] = None
    _type_name: Optional[str] = None
    _key: Optional[FloodKey] = None

    def __init__(
        self,
        level: str,
        kind: Kind,
        text: str,
        frames: List[CapturedFrame],
        omitted: int = 0,
        key: Optional[FloodKey] = None,
        causes: Optional[List[Cause]] = None,
        group: Optional[str] = None,
        manual: bool = False,
    ) -> None:
        self.level = level
        #: The exception's class, or the name of a message event's type.
        self.kind = kind
        #: The exception's text (a message event's whole message).
        self.text = text
        #: Innermost first.
        self.frames = frames
        #: Frames dropped from the middle of a very deep stack.
        self.omitted = omitted
        if key is not None:  # the flood gate asked already
            self._key = key
        #: The exceptions this one was raised from or during, outermost first.
        self.causes = causes
        if group is not None:
            self.group = group
        if manual:
            self.manual = manual
        self.timestamp = time.time()

    @property
    def key(self) -> FloodKey:
        """What the flood gate counts this capture as; worked out when first asked.

        The gate asks only while it may refuse or counts (see
        :mod:`ez_pixel._delivery.flood`): most captures never compute it.
        """
        key = self._key
        if key is None:
            key = self._key = flood_key(self.kind, self.frames, self.group)
        return key

    @property
    def what(self) -> object:
        """The job's name in debug output: the exception's class, or the message type."""
        return self.kind

    @property
    def type_name(self) -> str:
        """The event's ``type`` (worked out once, on the worker)."""
        if self._type_name is None:
            self._type_name = type_name(self.kind)
        return self._type_name

    @property
    def message(self) -> str:
        """The log message and the exception's text, once each, within the server's limit."""
        log_message = self.log_message
        if self.log_args and log_message is not None:
            log_message = format_log_message(log_message, self.log_args)
        return combine_message(log_message, self.text, MAX_MESSAGE_CHARS)


def module_name(raw: RawFrame) -> str:
    """The ``__name__`` of the module a captured frame ran in, or ''."""
    namespace = raw[3]
    name = namespace.get("__name__") if isinstance(namespace, dict) else namespace
    return name if isinstance(name, str) else ""
