"""``python -m ez_pixel``: the ``ez-pixel`` command."""

import sys

from ez_pixel.cli import main

sys.exit(main())
