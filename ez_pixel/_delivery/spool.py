"""A directory of encoded events waiting for a server that could not be reached.

Each event is one file named ``<time_ns>-<event_id>.json``, written to a
temporary name and renamed into place, so a reader never sees half a file.
A sender claims a file by renaming it to ``….json.<pid>.claim``: a rename
succeeds for exactly one process, so two processes sharing the directory
never send the same event twice. Claims left by a process that died are
released by the next one. Every operation swallows ``OSError``: a read-only
or full disk means fewer events kept, never a broken app.
"""

import json
import os
import time
from typing import List, Optional, Tuple

SUFFIX = ".json"
CLAIM = ".claim"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class Spool:
    """Bounded in count and bytes; the oldest events are evicted first."""

    def __init__(self, directory: str, max_events: int = 1000, max_bytes: int = 10_000_000) -> None:
        self.directory = directory
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.evicted = 0
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError:
            pass

    def _waiting(self) -> List[str]:
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        return sorted(n for n in names if n.endswith(SUFFIX))

    def has_waiting(self) -> bool:
        """Whether any event file waits to be sent."""
        return bool(self._waiting())

    def write(self, body: bytes) -> bool:
        """Store one encoded event; False if the disk refused it."""
        try:
            event_id = str(json.loads(body).get("event_id", "x"))[:64]
        except ValueError:
            return False
        safe_id = "".join(c if c.isalnum() or c == "-" else "_" for c in event_id)
        name = f"{time.time_ns():020d}-{safe_id}{SUFFIX}"
        temporary = os.path.join(self.directory, f".{name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(body)
            os.replace(temporary, os.path.join(self.directory, name))
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return False
        self._evict()
        return True

    def _evict(self) -> None:
        names = self._waiting()
        sizes: List[Tuple[str, int]] = []
        for name in names:
            try:
                sizes.append((name, os.path.getsize(os.path.join(self.directory, name))))
            except OSError:
                pass
        total = sum(size for _, size in sizes)
        while sizes and (len(sizes) > self.max_events or total > self.max_bytes):
            name, size = sizes.pop(0)
            try:
                os.unlink(os.path.join(self.directory, name))
                self.evicted += 1
            except OSError:
                pass
            total -= size

    def release_stale_claims(self) -> None:
        """Put back files claimed by processes that are gone."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if not name.endswith(CLAIM):
                continue
            base, _, pid = name[: -len(CLAIM)].rpartition(".")
            if pid.isdigit() and not _pid_alive(int(pid)):
                try:
                    os.rename(
                        os.path.join(self.directory, name), os.path.join(self.directory, base)
                    )
                except OSError:
                    pass

    def claim(self) -> Optional[Tuple[str, bytes]]:
        """Take the oldest waiting event for this process: ``(claimed path, body)``."""
        for name in self._waiting():
            source = os.path.join(self.directory, name)
            claimed = f"{source}.{os.getpid()}{CLAIM}"
            try:
                os.rename(source, claimed)
            except OSError:
                continue  # another process took it first
            try:
                with open(claimed, "rb") as handle:
                    body = handle.read()
                if not isinstance(json.loads(body), dict):
                    raise ValueError("not an event")
            except (OSError, ValueError):
                self.discard(claimed)  # corrupt or half-written by a crashed writer
                continue
            return claimed, body
        return None

    def discard(self, claimed: str) -> None:
        """Forget a claimed event (it was delivered, or is unusable)."""
        try:
            os.unlink(claimed)
        except OSError:
            pass

    def unclaim(self, claimed: str) -> None:
        """Give a claimed event back, for this or another process to send later."""
        try:
            os.rename(claimed, claimed[: claimed.rindex(".", 0, claimed.rindex("."))])
        except (OSError, ValueError):
            pass
