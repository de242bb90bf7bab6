"""The ``ez-pixel`` command line: one module per command, the installer in :mod:`.install`.

:mod:`.common` holds what commands share (errors, exit codes, argument types),
:mod:`.source` where ``errors``/``show`` read from, :mod:`.main` the parser.
"""

from .main import main

__all__ = ["main"]
