"""Climbing from a directory towards the filesystem root, a bounded number of steps.

The ``.env`` search (:mod:`ez_pixel._environ`) and the ``.git`` search
(:mod:`ez_pixel._event.revision`) both look in a directory and then in each
parent; they differ only in what they look for and where they stop.
"""

import os
from typing import Iterator


def upwards(start: str, levels: int) -> Iterator[str]:
    """``start`` (made absolute), then its parents: at most ``levels`` directories, root last."""
    directory = os.path.abspath(start)
    for _ in range(levels):
        yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent
