"""The fingerprint: what makes two events the same bug, on every machine.

sha256 over the exception type and the innermost application frame's portable
path, function and failing source text (see :class:`~.event.EventBuilder`);
never a line number or an absolute path, so it survives unrelated edits above
the bug and does not depend on where the code is installed.
"""

import hashlib
from typing import List


def fingerprint(parts: List[str]) -> str:
    """16 hex characters of sha256 over ``parts``."""
    joined = "\x1f".join(parts).encode("utf-8", "replace")
    return hashlib.sha256(joined).hexdigest()[:16]
