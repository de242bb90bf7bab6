"""Which log records become events, and the rule that each error is reported once.

Shared by both logging adapters (:class:`~ez_pixel.PixelHandler` and
:class:`~ez_pixel.structlog.PixelProcessor`), which must agree on it without
importing each other:

- loggers that never report: ``ez_pixel`` and ``urllib3`` (delivery trouble
  must not feed on itself) and whatever :func:`ignore_logger` names, each with
  its children, matched by exact name, never by prefix (``ez_pixel_shop`` is
  the app's);
- an exception is reported once, whichever path sees it first (a record, the
  excepthook, structlog);
- a record propagating to two handlers, or seen by the processor and then by
  a handler, is reported once.
"""

import logging
import threading
import weakref
from typing import Dict, Optional, Set, Tuple

#: Loggers whose records never become events: ours, and the HTTP library the
#: worker uses, so that delivery trouble cannot feed on itself.
IGNORED_LOGGERS = ("ez_pixel", "urllib3")

_ignored: Set[str] = set(IGNORED_LOGGERS)
#: Logger name -> whether it is ignored: a record's logger is looked up once.
_verdicts: Dict[str, bool] = {}

#: Attribute set on an exception once it has been reported, so that a second
#: path (excepthook after logger.exception, structlog plus logging) skips it.
REPORTED = "__ez_pixel_reported__"


def ignore_logger(name: str) -> None:
    """Never report records of logger ``name`` or of its children (``name.*``)."""
    _ignored.add(name)
    _verdicts.clear()


def is_ignored(name: str) -> bool:
    """Whether ``name`` is an ignored logger or a child of one (exact names, never prefixes)."""
    verdict = _verdicts.get(name)
    if verdict is None:
        verdict = False
        parent, steps = name, 0
        while parent and steps < 64:
            if parent in _ignored:
                verdict = True
                break
            parent = parent.rpartition(".")[0]
            steps += 1
        if len(_verdicts) >= 4096:
            _verdicts.clear()
        _verdicts[name] = verdict
    return verdict


_WARNING, _ERROR, _CRITICAL = logging.WARNING, logging.ERROR, logging.CRITICAL


def level_name(levelno: int) -> Optional[str]:
    """The server's level for a logging level; None below WARNING."""
    if levelno >= _ERROR:
        return "fatal" if levelno >= _CRITICAL else "error"
    return "warning" if levelno >= _WARNING else None


def first_report(exc: BaseException) -> bool:
    """Mark ``exc`` as reported; False if it already was."""
    try:
        if getattr(exc, REPORTED, False):
            return False
        setattr(exc, REPORTED, True)
    except Exception:  # an exception that refuses attributes is reported every time
        return True
    return True


# -- a record reaching several PixelHandlers ----------------------------------

#: The last message record reported on this thread: a record propagating to a
#: second PixelHandler (say on "django" and on the root) is reported once.
_last_record = threading.local()


def seen_before(record: logging.LogRecord) -> bool:
    """True when this thread reported ``record`` already; else remembers it and says False."""
    seen = getattr(_last_record, "ref", None)
    if seen is not None and seen() is record:
        return True
    _last_record.ref = weakref.ref(record)
    return False


def handler_reported(record: logging.LogRecord) -> bool:
    """Whether a PixelHandler reported the record ``record`` is a formatter's copy of."""
    ref = getattr(_last_record, "ref", None)
    seen = ref() if ref is not None else None
    return seen is not None and seen.msg is record.msg and seen.created == record.created


# -- log calls a PixelProcessor has dealt with --------------------------------


class Claim:
    """A log call this thread's processor has dealt with, for PixelHandler to skip.

    Made inside a ProcessorFormatter, it names the record by its creation time
    and message object. Made before logging, it names the record to come by
    the event dict it will carry (``wrap_for_formatter``) or by its call site;
    the first record it covers then binds it to that record (and to the
    formatters' copies of it, which share both), so that a later call from
    the same line is not mistaken for this one.
    """

    __slots__ = ("key", "msg_id", "site")

    def __init__(
        self,
        site: Optional[Tuple[str, int]] = None,
        msg_id: int = 0,
        key: Optional[Tuple[float, int]] = None,
    ) -> None:
        self.site = site
        self.msg_id = msg_id
        self.key = key

    def covers(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is (a copy of) the one this claim names."""
        if self.key is not None:
            return (record.created, id(record.msg)) == self.key
        if (isinstance(record.msg, dict) and id(record.msg) == self.msg_id) or (
            self.site is not None and (record.pathname, record.lineno) == self.site
        ):
            self.key = (record.created, id(record.msg))
            return True
        return False


_claims = threading.local()


def claim(made: Claim) -> None:
    """Remember ``made`` as this thread's last claim."""
    _claims.last = made


def claimed(record: logging.LogRecord) -> bool:
    """Whether a :class:`PixelProcessor` on this thread already dealt with ``record``.

    A claim lasts until a record it does not cover comes by, so that every
    PixelHandler a record reaches skips it and a stale claim cannot hide
    a later record.
    """
    last: Optional[Claim] = getattr(_claims, "last", None)
    if last is None:
        return False
    if last.covers(record):
        return True
    _claims.last = None
    return False
