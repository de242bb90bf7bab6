"""The client: captures errors on the caller's thread and hands them to its worker.

Every public method swallows its own failures and counts them in
``stats()["internal_errors"]``: an error reporter must never become the error.
"""

import os
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Callable, Dict, Optional, Union

from ._capture.capture import exception_capture, log_message_of, message_capture
from ._capture.records import first_report
from ._delivery.answer import Answer
from ._delivery.worker import Worker
from ._environ import KEY_NAMES, find_dotenv, read_dotenv
from ._event.ids import new_event_id
from ._event.prepare import Preparer
from ._event.snapshot import Capture
from ._guard import Swallow
from ._stderr import say, say_once
from ._text import text_of
from .contract import LEVELS
from .options import Options, make_options
from .types import ReportInput


class _Omitted:
    """The default of ``tb``: no traceback argument given (a call by hand)."""


_OMITTED = _Omitted()


def check_level(level: object) -> str:
    """``level`` if the server accepts it; ``ValueError`` naming the accepted ones if not."""
    if not isinstance(level, str) or level not in LEVELS:
        shown = text_of(level, 50)
        raise ValueError(f"ez-pixel: level must be one of {', '.join(LEVELS)}, not {shown!r}")
    return level


class Client:
    """Owns one project's options, event preparer and delivery worker.

    Making one has no side effects; :meth:`start` starts its worker thread
    (``init_pixel`` does), or the first event does.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self._preparer: Optional[Preparer] = None
        self.worker = Worker(options, on_start=self._warm_up)
        self._preparer = Preparer(options, self.worker.count, self.worker.warn_once)
        self.worker.build = self._preparer.body
        self._admits = self.worker.admits
        #: Hands a complete capture to the worker (sampled, without an id):
        #: True when it was queued. Not guarded: callers run it inside :attr:`guard`.
        self.submit: Callable[[Capture], bool] = (
            self._sampled_submit if options.sample_rate < 1.0 else self.worker.submit
        )
        #: Swallows a failure and counts it in ``internal_errors``: ``with client.guard: ...``.
        self.guard = Swallow(self.worker.count)

    def _warm_up(self) -> None:
        if self._preparer is not None:
            self._preparer.warm_up()

    @property
    def project_key(self) -> str:
        """The project key events are sent with."""
        return self.options.project_key

    @property
    def runtime(self) -> str:
        """The ``runtime`` every event carries (``python-<version>`` by default)."""
        return self.options.runtime

    def start(self) -> "Client":
        """Start the delivery thread now, so it is ready before the first error."""
        self.worker.start()
        return self

    def count(self, name: str) -> None:
        """Add one to counter ``name`` (e.g. ``internal_errors``) from any thread."""
        self.worker.count(name)

    def capture_exception(
        self,
        exc: BaseException,
        level: str = "error",
        *,
        tb: Union[TracebackType, _Omitted, None] = _OMITTED,
        message: Optional[str] = None,
        manual: Optional[bool] = None,
        call_site: Optional[FrameType] = None,
        extra: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Queue an exception event; returns its id for manual reports.

        ``tb`` defaults to the exception's own traceback; an exception that was
        never raised has none, and then ``call_site`` (by default, for a call
        by hand, the caller's frame) gives the stack. ``manual`` (the event's
        ``manual_report``) defaults to True for a call by hand, one without
        ``tb``, as in the ecosystem's SDK; hooks and handlers pass ``tb``.
        """
        with self.guard:
            by_hand = isinstance(tb, _Omitted)
            if by_hand and call_site is None:
                call_site = sys._getframe(1)
            capture = self.begin_exception(
                exc, level, None if isinstance(tb, _Omitted) else tb, call_site
            )
            if capture is None:
                return None
            capture.log_message = log_message_of(message)
            capture.manual = by_hand if manual is None else manual
            capture.extra = extra
            return self.queue(capture)
        return None

    def begin_exception(
        self,
        exc: BaseException,
        level: str,
        tb: Optional[TracebackType] = None,
        call_site: Optional[FrameType] = None,
    ) -> Optional[Capture]:
        """The capture of ``exc`` to complete and :meth:`queue`; None if it must not be sent.

        None when ``exc`` was reported already (it is marked reported now) or
        when the flood gate would drop it (counted): checked as soon as the
        frames are known, so that a hot loop pays for nothing else. The
        caller sets ``log_message``, ``manual`` and ``extra`` on what it
        gets. Not guarded: callers run it inside :attr:`guard`.
        """
        if not first_report(exc):
            return None
        # The flood gate is asked first only while it may refuse: otherwise the
        # worker's submit counts the capture in without a second look.
        admit = self._admits if self.worker.flood_gate.wary else None
        return exception_capture(exc, level, tb=tb, call_site=call_site, admit=admit)

    @staticmethod
    def exception_capture(
        exc: BaseException,
        level: str,
        *,
        message: Optional[str] = None,
        manual: bool = False,
        extra: Optional[Dict[str, Any]] = None,
    ) -> Capture:
        """What the caller's thread records of ``exc``, for :meth:`prepare` (no flood gate)."""
        capture = exception_capture(exc, level)
        assert capture is not None  # refused only by an ``admit`` gate
        capture.log_message = log_message_of(message)
        capture.manual = manual
        capture.extra = extra
        return capture

    def capture_message(
        self,
        message: Any,
        level: str = "error",
        *,
        call_site: Optional[FrameType],
        group: str,
        manual: bool = False,
        extra: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Queue a message event whose stack is ``call_site`` outwards.

        Events group by ``group`` (e.g. logger name and message template) plus
        the call site, so values formatted into the message do not split them.
        """
        with self.guard:
            capture = message_capture(
                message, level, call_site=call_site, group=group, manual=manual
            )
            capture.extra = extra
            return self.queue(capture)
        return None

    def report(
        self,
        message: Union[str, ReportInput],
        error: Any = None,
        level: str = "error",
        *,
        call_site: Optional[FrameType] = None,
    ) -> Optional[str]:
        """Report by hand (``manual_report: true``); returns the event id, or None if not queued.

        ``message`` may be a :class:`~ez_pixel.types.ReportInput`. With an
        exception as ``error`` the event has its type and traceback and
        ``message`` alongside its text; any other ``error`` (``"oops"``, a
        dict) is text: the event is a ``ManualReport`` whose message is
        ``"<message>: <error>"``. Its stack is ``call_site``, by default the
        caller's. An unknown ``level`` raises ``ValueError``.
        """
        if isinstance(message, ReportInput):
            given = message
            message, error, level = given.message, given.error, given.level
        check_level(level)
        site = call_site or sys._getframe(1)
        if isinstance(error, BaseException):
            return self.capture_exception(
                error, level, message=message, manual=True, call_site=site
            )
        text = text_of(message, 1000)
        if error is not None:
            detail = text_of(error, 4000)
            text = f"{text}: {detail}" if text else detail
        return self.capture_message(
            text, level, call_site=site, group=text_of(message, 200), manual=True
        )

    def queue(self, capture: Capture) -> Optional[str]:
        """Hand a complete capture to the worker; its id ('' unless manual), None if dropped.

        Not guarded: callers run it inside :attr:`guard`.
        """
        if capture.manual:  # report_pixel returns the id, so it is made here
            capture.event_id = new_event_id()
        if self.submit(capture):
            return capture.event_id or ""
        return None

    def _sampled_submit(self, capture: Capture) -> bool:
        import random

        if random.random() >= self.options.sample_rate:
            self.worker.count("dropped_sampled")
            return False
        return self.worker.submit(capture)

    def prepare(self, capture: Capture) -> Optional[bytes]:
        """The capture as a request body, built here and now (``ez-pixel send-test``).

        Raises :class:`~ez_pixel._delivery.job.Drop` when ``before_send`` drops it.
        """
        assert self._preparer is not None
        return self._preparer.body(capture)

    def post(self, body: bytes) -> Answer:
        """POST ``body`` once, now, on a connection of its own: no queue, retry or spool.

        For ``ez-pixel send-test``; status 0 when the server could not be reached.
        """
        from ._delivery.transport import Transport

        transport = Transport(self.options)
        try:
            return transport.post(body)
        finally:
            transport.close()

    def flush(self, timeout: Optional[float] = None, *, timeout_s: Optional[float] = None) -> bool:
        """Wait for queued events; True when none are left.

        ``timeout_s`` is the ecosystem SDK's name for ``timeout`` (seconds).
        """
        with self.guard:
            return self.worker.flush(timeout if timeout is not None else timeout_s)
        return False

    def close(self, timeout: Optional[float] = None, *, timeout_s: Optional[float] = None) -> int:
        """Flush for up to ``timeout`` (default ``shutdown_timeout``), then stop.

        ``timeout_s`` is the ecosystem SDK's name for ``timeout``.
        """
        with self.guard:
            return self.worker.close(timeout if timeout is not None else timeout_s)
        return 0

    def stats(self) -> Dict[str, object]:
        """Delivery counters: queued, sent, retried, dropped by reason, spooled, pending."""
        counts = dict(self.worker.counts)
        dropped = {k[len("dropped_") :]: v for k, v in counts.items() if k.startswith("dropped_")}
        return {
            "queued": self.worker.queued,
            "sent": counts.get("sent", 0),
            "retried": counts.get("retried", 0),
            "dropped": dropped,
            "spooled": counts.get("spooled", 0),
            "replayed": counts.get("replayed", 0),
            "internal_errors": counts.get("internal_errors", 0),
            "pending": self.worker.pending,
        }


#: The name the ecosystem's SDK (``packages/pixel-py``) gives the client ``init_pixel`` returns.
PixelClient = Client

_state_lock = threading.Lock()
_active: Optional[Client] = None
_from_env: Optional[Client] = None
_env_broken = False
#: The project's ``.env`` is looked for once per process by :func:`env_client`.
_dotenv_has_key: Optional[bool] = None


def active_client() -> Optional[Client]:
    """The client ``init_pixel`` made, if it is still open."""
    return _active


def set_active(client: Optional[Client]) -> None:
    """Make ``client`` the one ``init_pixel`` made (None when closed)."""
    global _active
    _active = client


def _key_configured() -> bool:
    global _dotenv_has_key
    if any(os.environ.get(name, "").strip() for name in KEY_NAMES):
        return True
    if _dotenv_has_key is None:
        values = read_dotenv(find_dotenv())
        _dotenv_has_key = any(values.get(name, "").strip() for name in KEY_NAMES)
    return _dotenv_has_key


def env_client() -> Optional[Client]:
    """A client configured from the environment (or the project's ``.env``), made once, else None.

    It needs a key (``PIXEL_PROJECT_KEY``, ``EZCODER_PIXEL_KEY``); the URL
    follows the same precedence as ``init_pixel``'s.
    """
    global _from_env, _env_broken
    if _from_env is not None or _env_broken:
        return _from_env
    if not _key_configured():
        return None
    with _state_lock:
        if _from_env is None:
            try:
                _from_env = Client(make_options()).start()
            except Exception as exc:  # a malformed key or URL (ValueError, TypeError) above all
                say(f"{exc}; events are not reported")
                _env_broken = True
                return None
            import atexit

            atexit.register(_from_env.close)
    return _from_env


def current_client() -> Optional[Client]:
    """The client reports go to: the active one, else one from the environment."""
    return _active or env_client()


def client_or_warn() -> Optional[Client]:
    """:func:`current_client`; without one, says once per process that errors are dropped.

    For the paths an error takes (``report_pixel``, a ``PixelHandler``), not
    for ``flush``/``stats``. Never raises.
    """
    client = _active or env_client()
    if client is None:
        say_once(
            "no-client",
            "an error was dropped because ez-pixel is not configured: call "
            "ez_pixel.init_pixel(), or set PIXEL_PROJECT_KEY (or EZCODER_PIXEL_KEY) in the "
            "environment or the project's .env (this is said once)",
        )
    return client
