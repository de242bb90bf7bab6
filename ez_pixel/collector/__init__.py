"""The local collector (``ez-pixel serve``): a twin of the hosted pixel server.

One module per concern: :mod:`.http` (the server and request handling),
:mod:`.ingest` (``POST /ingest``), :mod:`.api` (the management API),
:mod:`.routes` (which answers what), :mod:`.jsjson` (text and JSON as the
server's JavaScript sees them), :mod:`.store` (SQLite, in the server's schema),
:mod:`.render` (escaped text for terminals), :mod:`.server` (the
:class:`Collector` itself).
It shares :mod:`ez_pixel.contract` with the SDK and nothing else.
"""

from .server import Collector
from .store import ErrorStore

__all__ = ["Collector", "ErrorStore"]
