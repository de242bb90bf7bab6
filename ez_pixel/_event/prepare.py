"""From a capture to a request body: what a delivery job runs on the worker thread.

The client queues each capture as a job whose build is :meth:`Preparer.body`:
build the event (:mod:`.event`), let ``before_send`` see it, fit and encode
it (:mod:`.fit`). The event code is imported on the worker (see
:meth:`Preparer.warm_up`), never on the app's thread.
"""

from typing import Any, Callable, Dict, Optional

from .._delivery.job import Drop
from .._guard import INTERNAL_ERRORS, swallowed
from ..contract import validate_event
from ..options import Options
from .snapshot import Capture

#: What a warning on stderr is about, so each cause is said once.
WARN_BEFORE_SEND = "before_send"


class Preparer:
    """Builds request bodies for one client's options; counts and warns through its worker."""

    def __init__(
        self,
        options: Options,
        count: Callable[[str], None],
        warn: Callable[[str, str], None],
    ) -> None:
        self._options = options
        self._count = count
        self._warn = warn
        self._builder: Any = None

    def warm_up(self) -> None:
        """Load the event code and what it loads lazily; runs first on the worker thread."""
        from . import event

        with swallowed:
            event.warm_up(self._options)

    def body(self, capture: Capture) -> Optional[bytes]:
        """The capture as a request body within the server's limits.

        Raises :class:`~ez_pixel._delivery.job.Drop` when ``before_send`` drops
        the event, raises, or returns something the server would reject.
        """
        from . import event, fit

        if self._builder is None:
            self._builder = event.EventBuilder(self._options)
        try:
            built = self._builder.build(capture)
        except Exception:
            self._count(INTERNAL_ERRORS)
            built = event.minimal(capture, self._options, self._builder.runtime)
        if self._options.before_send is not None:
            built = self._before_send(built)
        return fit.encode(built)

    def _before_send(self, built: Dict[str, Any]) -> Dict[str, Any]:
        hook = self._options.before_send
        try:
            if isinstance(hook, str):
                hook = _resolve(hook)
            result = hook(built)  # type: ignore[misc]
        except Exception as exc:
            self._warn(WARN_BEFORE_SEND, f"before_send raised {exc!r}; that event is dropped")
            raise Drop("before_send_error") from None
        if result is None:
            raise Drop("before_send")
        problem = validate_event(result)
        if problem is not None:
            self._warn(WARN_BEFORE_SEND, f"before_send returned an event with {problem}")
            raise Drop("before_send_invalid")
        return result  # type: ignore[no-any-return]


def _resolve(path: str) -> Any:
    """``"package.module:function"`` (or dotted) to the object it names."""
    import importlib

    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), name)
