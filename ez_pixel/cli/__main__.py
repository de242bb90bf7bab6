"""``python -m ez_pixel.cli``: the ``ez-pixel`` command."""

import sys

from ez_pixel.cli.main import main

sys.exit(main())
