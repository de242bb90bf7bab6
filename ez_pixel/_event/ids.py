"""Event ids: random (version 4) UUIDs in their usual text form.

Made from ``os.urandom`` rather than :func:`uuid.uuid4`: on Python 3.8
importing :mod:`uuid` runs ``uname -p`` in a child process, which would fork
the app (from its own thread, or from the delivery thread) for an id.
"""

import os


def new_event_id() -> str:
    """A fresh random UUID (RFC 4122 version 4), as ``8-4-4-4-12`` lowercase hex."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
