"""A directory of encoded events waiting for a server that could not be reached.

Each event is one file named ``<time_ns>-<event_id>.json``, written to a
temporary name and renamed into place, so a reader never sees half a file.
A sender claims a file by renaming it to ``….json.<pid>.claim``: a rename
succeeds for exactly one process, so two processes sharing the directory
never send the same event twice. Claims left by a process that died are
released by the next one. Every operation swallows ``OSError``: a read-only
or full disk means fewer events kept, never a broken app.

The directory and its files are the user's alone (``0700`` and ``0600``,
whatever the umask): they hold the project key and the messages. Nothing in
the directory is trusted: links are never followed (``O_NOFOLLOW``), and only
a regular file of the user's, small enough to be an event, holding a JSON
event of this project is ever sent. Anything else is set aside (removed, or
renamed to ``….bad`` when it cannot be removed) and counted.
"""

import errno
import json
import os
import stat
import time
from typing import Callable, List, Optional, Set, Tuple

SUFFIX = ".json"
CLAIM = ".claim"
BAD = ".bad"
#: No event is larger (the server takes 64 KiB); a larger file is not an event.
MAX_FILE = 256 * 1024
#: Fields every event the SDK writes has.
_EVENT_FIELDS = ("event_id", "project_key", "fingerprint", "type", "message")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _private_directory(directory: str) -> bool:
    """Make ``directory`` (``0700``) if needed; whether it is a real directory of ours."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False  # a link, or someone else's directory: never write there
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(directory, 0o700)
    except (OSError, AttributeError):  # AttributeError: no os.getuid (Windows)
        return os.path.isdir(directory) and not os.path.islink(directory)
    return True


class Spool:
    """Bounded in count and bytes; the oldest events are evicted first."""

    def __init__(
        self,
        directory: str,
        max_events: int = 1000,
        max_bytes: int = 10_000_000,
        *,
        project_key: Optional[str] = None,
        on_bad: Optional[Callable[[], None]] = None,
    ) -> None:
        self.directory = directory
        self.max_events = max_events
        self.max_bytes = max_bytes
        #: Only events of this project are sent (None: any).
        self.project_key = project_key
        self._on_bad = on_bad
        self.evicted = 0
        #: Events of other projects seen here: left alone, and not read again.
        self._foreign: Set[str] = set()
        #: False when the directory is a link or someone else's: nothing is written.
        self.usable = _private_directory(directory)

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
        """Store one encoded event, readable by this user only; False if the disk refused it."""
        if not self.usable:
            return False
        try:
            event_id = str(json.loads(body).get("event_id", "x"))[:64]
        except (ValueError, AttributeError, RecursionError):
            return False
        safe_id = "".join(c if c.isalnum() or c == "-" else "_" for c in event_id)
        name = f"{time.time_ns():020d}-{safe_id}{SUFFIX}"
        temporary = os.path.join(self.directory, f".{name}.{os.getpid()}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
            handle = os.open(temporary, flags, 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle, 0o600)  # whatever the umask
                os.write(handle, body)
            finally:
                os.close(handle)
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
                sizes.append((name, os.lstat(os.path.join(self.directory, name)).st_size))
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
        """Take the oldest waiting event for this process: ``(claimed path, body)``.

        A file that is not an event this SDK wrote is set aside and counted;
        an event of another project is left where it is.
        """
        for name in self._waiting():
            if name in self._foreign:
                continue
            source = os.path.join(self.directory, name)
            claimed = f"{source}.{os.getpid()}{CLAIM}"
            try:
                os.rename(source, claimed)
            except OSError:
                continue  # another process took it first
            body = _read_event(claimed)
            if body is None:
                self._set_aside(claimed)
                continue
            if not self._ours(body):
                self.unclaim(claimed)
                self._foreign.add(name)
                continue
            return claimed, body
        return None

    def _ours(self, body: bytes) -> bool:
        if self.project_key is None:
            return True
        try:
            return bool(json.loads(body).get("project_key") == self.project_key)
        except Exception:
            return False

    def _set_aside(self, claimed: str) -> None:
        """Remove what cannot be an event (a directory is renamed to ``….bad``); count it."""
        try:
            os.unlink(claimed)  # a link is removed, never what it points to
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.EPERM, errno.EACCES):
                try:
                    os.rename(claimed, _unclaimed(claimed) + BAD)
                except (OSError, ValueError):
                    pass
        if self._on_bad is not None:
            self._on_bad()

    def discard(self, claimed: str) -> None:
        """Forget a claimed event (it was delivered, or is unusable)."""
        try:
            os.unlink(claimed)
        except OSError:
            pass

    def unclaim(self, claimed: str) -> None:
        """Give a claimed event back, for this or another process to send later."""
        try:
            os.rename(claimed, _unclaimed(claimed))
        except (OSError, ValueError):
            pass


def _unclaimed(claimed: str) -> str:
    """``….json`` from ``….json.<pid>.claim``."""
    return claimed[: claimed.rindex(".", 0, claimed.rindex("."))]


def _read_event(path: str) -> Optional[bytes]:
    """The file's bytes if it is a regular file of ours holding a JSON event, else None."""
    try:
        handle = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:  # a link (ELOOP), unreadable, vanished
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        body = os.read(handle, MAX_FILE + 1)
    except OSError:
        return None
    finally:
        os.close(handle)
    try:
        event = json.loads(body)
    except Exception:  # not JSON, or nested deeper than the parser goes (RecursionError)
        return None
    if not isinstance(event, dict) or not all(
        isinstance(event.get(field), str) for field in _EVENT_FIELDS
    ):
        return None
    return body
