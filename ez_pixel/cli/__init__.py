"""The ``ez-pixel`` command line: one module per command, the installer in :mod:`.install`.

:mod:`.common` holds what commands share (errors, exit codes, argument types),
:mod:`.management` the management API client behind ``errors``, ``show`` and
``resolve``, :mod:`.main` the parser.
"""

from .main import main

__all__ = ["main"]
