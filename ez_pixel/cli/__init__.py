"""The ``ez-pixel`` command line: one module per command, the installer in :mod:`.install`.

:mod:`.common` holds what commands share (errors, exit codes, argument types),
:mod:`.management` the management API client (``errors``, ``show``,
``resolve``, ``install``, ``send-test --cleanup``), :mod:`.main` the parser.
"""

from .main import main

__all__ = ["main"]
