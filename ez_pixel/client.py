"""The client: captures errors on the caller's thread and hands them to its worker.

Every public method swallows its own failures and counts them in
``stats()["internal_errors"]``: an error reporter must never become the error.
"""

import os
import threading
from types import FrameType, TracebackType
from typing import Any, Dict, List, Optional, Tuple

from ._stderr import say
from .capture import (
    Capture,
    RawFrame,
    causes_of,
    combine_message,
    frames_from_frame,
    frames_from_traceback,
    group_summary,
    safe_str,
    type_name,
)
from .options import ENV_INGEST_URL, ENV_PROJECT_KEY, Options, make_options
from .worker import Drop, Worker, signature, stats_of

#: Attribute set on an exception once it has been reported, so that a second
#: path (excepthook after logger.exception, structlog plus logging) skips it.
_REPORTED = "__ez_pixel_reported__"
#: The type of events made from a log record or message without an exception.
MESSAGE_TYPE = "LogMessage"
#: The type of a manual report without an exception.
MANUAL_TYPE = "ManualReport"


def first_report(exc: BaseException) -> bool:
    """Mark ``exc`` as reported; False if it already was."""
    try:
        if getattr(exc, _REPORTED, False):
            return False
        setattr(exc, _REPORTED, True)
    except Exception:
        pass  # an exception that refuses attributes is reported every time
    return True


class Client:
    """Owns one project's options, event builder and delivery worker."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.worker = Worker(options, self.prepare)
        self._builder: Any = None
        self.worker.start()

    def capture_exception(
        self,
        exc: BaseException,
        level: str = "error",
        *,
        tb: Optional[TracebackType] = None,
        message: Optional[str] = None,
        manual: bool = False,
        call_site: Optional[FrameType] = None,
        extra: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Queue an exception event; returns its id for manual reports.

        ``tb`` defaults to the exception's own traceback; an exception that was
        never raised has none, and then ``call_site`` gives the stack.
        """
        try:
            if not first_report(exc):
                return None
            frames, omitted = _frames_of(exc, tb, call_site)
            name = type_name(exc)
            flood_key = signature(name, frames)
            if not self.worker.admits(flood_key):  # a flood: skip the rest of the capture
                return None
            capture = _exception_capture(exc, level, name, frames, omitted, message, manual, extra)
            capture.flood_key = flood_key
            return self._submit(capture)
        except Exception:
            self.worker.count("internal_errors")
            return None

    def flooded(self, exc: BaseException, tb: Optional[TracebackType] = None) -> bool:
        """True, and counted as a drop, when ``exc`` would be dropped as a flood now.

        A check callers make before they gather a message, context or
        frames: only the type and the innermost frame are looked at. An
        exception it lets through still goes through :meth:`capture_exception`.
        """
        try:
            if tb is None:
                tb = exc.__traceback__
            if tb is None:
                return False
            while tb.tb_next is not None:
                tb = tb.tb_next
            innermost: RawFrame = (tb.tb_frame.f_code, tb.tb_lineno or 0, 0, None)
            return not self.worker.admits(signature(type_name(exc), [innermost]))
        except Exception:
            return False

    @staticmethod
    def exception_capture(
        exc: BaseException,
        level: str,
        *,
        tb: Optional[TracebackType] = None,
        message: Optional[str] = None,
        manual: bool = False,
        call_site: Optional[FrameType] = None,
        extra: Optional[Dict[str, Any]] = None,
    ) -> Capture:
        """What the caller's thread records of ``exc`` (see :meth:`capture_exception`)."""
        frames, omitted = _frames_of(exc, tb, call_site)
        return _exception_capture(
            exc, level, type_name(exc), frames, omitted, message, manual, extra
        )

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
        try:
            frames, omitted = frames_from_frame(call_site)
            capture = Capture(
                level,
                MANUAL_TYPE if manual else MESSAGE_TYPE,
                safe_str(message),
                frames,
                omitted=omitted,
                manual=manual,
                group=group,
                extra=extra,
            )
            return self._submit(capture)
        except Exception:
            self.worker.count("internal_errors")
            return None

    def _submit(self, capture: Capture) -> Optional[str]:
        rate = self.options.sample_rate
        if rate < 1.0:
            import random

            if random.random() >= rate:
                self.worker.count("dropped_sampled")
                return None
        if capture.manual:  # report_pixel returns the id, so it is made here
            import uuid

            capture.event_id = str(uuid.uuid4())
        if self.worker.submit(capture):
            return capture.event_id or ""
        return None

    def prepare(self, capture: Capture) -> Optional[bytes]:
        """Worker side: the capture as a request body within the server's limits.

        Raises :class:`~ez_pixel.worker.Drop` when ``before_send`` drops the
        event, raises, or returns something the server would reject.
        """
        from . import event

        if self._builder is None:
            self._builder = event.EventBuilder(self.options)
        try:
            built = self._builder.build(capture)
        except Exception:
            self.worker.count("internal_errors")
            built = event.minimal(capture, self.options)
        if self.options.before_send is not None:
            built = self._before_send(built)
        return event.encode(built)

    def _before_send(self, built: Dict[str, Any]) -> Dict[str, Any]:
        from .contract import validate_event

        hook = self.options.before_send
        try:
            if isinstance(hook, str):
                hook = _resolve(hook)
            result = hook(built)  # type: ignore[misc]
        except Exception as exc:
            self.worker.warn_once(-1, f"before_send raised {exc!r}; that event is dropped")
            raise Drop("before_send_error") from None
        if result is None:
            raise Drop("before_send")
        problem = validate_event(result)
        if problem is not None:
            self.worker.warn_once(-1, f"before_send returned an event with {problem}")
            raise Drop("before_send_invalid")
        return result  # type: ignore[no-any-return]

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait for queued events; True when none are left."""
        try:
            return self.worker.flush(timeout)
        except Exception:
            return False

    def close(self, timeout: Optional[float] = None) -> int:
        """Flush for up to ``timeout`` (default ``shutdown_timeout``), then stop."""
        try:
            return self.worker.close(timeout)
        except Exception:
            return 0

    def stats(self) -> Dict[str, object]:
        """Delivery counters: queued, sent, retried, dropped by reason, pending."""
        return stats_of(self.worker)


def _frames_of(
    exc: BaseException, tb: Optional[TracebackType], call_site: Optional[FrameType]
) -> Tuple[List[RawFrame], int]:
    if tb is None:
        tb = getattr(exc, "__traceback__", None)
    if tb is not None:
        return frames_from_traceback(tb)
    return frames_from_frame(call_site)


def _exception_capture(
    exc: BaseException,
    level: str,
    name: str,
    frames: List[RawFrame],
    omitted: int,
    message: Optional[str],
    manual: bool,
    extra: Optional[Dict[str, Any]],
) -> Capture:
    text = safe_str(exc)
    members = group_summary(exc)
    if members:
        text = f"{text} [{members}]"
    return Capture(
        level,
        name,
        combine_message(message, text),
        frames,
        omitted=omitted,
        manual=manual,
        extra=extra,
        causes=causes_of(exc),
    )


def _resolve(path: str) -> Any:
    """``"package.module:function"`` (or dotted) to the object it names."""
    import importlib

    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), name)


_state_lock = threading.Lock()
_active: Optional[Client] = None
_from_env: Optional[Client] = None
_env_broken = False


def active_client() -> Optional[Client]:
    """The client ``init_pixel`` made, if it is still open."""
    return _active


def set_active(client: Optional[Client]) -> None:
    """Make ``client`` the one ``init_pixel`` made (None when closed)."""
    global _active
    _active = client


def env_client() -> Optional[Client]:
    """A client from ``PIXEL_PROJECT_KEY``/``PIXEL_INGEST_URL``, made once, else None."""
    global _from_env, _env_broken
    if _from_env is not None or _env_broken:
        return _from_env
    if not (os.environ.get(ENV_PROJECT_KEY) and os.environ.get(ENV_INGEST_URL)):
        return None
    with _state_lock:
        if _from_env is None:
            try:
                _from_env = Client(make_options())
            except (ValueError, TypeError) as exc:
                say(f"{exc}; events are not reported")
                _env_broken = True
                return None
            import atexit

            atexit.register(_from_env.close)
    return _from_env


def current_client() -> Optional[Client]:
    """The client reports go to: the active one, else one from the environment."""
    return _active or env_client()
