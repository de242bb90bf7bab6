"""SQLite storage for the local collector, in the hosted server's own schema.

The tables are the server's (its ``migrations/``): ``projects`` (id, name,
key, secret, created_at) and ``errors``, one row per (project, fingerprint)
holding the newest event's type, message, stack, code_context and runtime
plus counters and the fix status. Ids and timestamps are minted as the server
mints them (``err_<32 hex>``, milliseconds since the epoch), and every query
that decides an answer is the server's query, so ties sort the same way.
All SQL is parameterised.
"""

import secrets
import sqlite3
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from ez_pixel.contract import FINGERPRINT_CAP

from . import jsjson

#: Fix statuses a group can have; PATCH accepts exactly these.
STATUSES = ("open", "in_progress", "awaiting_review", "merged", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  key         TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  secret      TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS projects_secret ON projects(secret);
CREATE TABLE IF NOT EXISTS errors (
  id                TEXT PRIMARY KEY,
  last_event_id     TEXT,
  project_id        TEXT NOT NULL,
  fingerprint       TEXT NOT NULL,
  status            TEXT NOT NULL,
  type              TEXT,
  message           TEXT,
  stack             TEXT,
  code_context      TEXT,
  runtime           TEXT,
  occurrences       INTEGER NOT NULL DEFAULT 1,
  recurrence_count  INTEGER NOT NULL DEFAULT 0,
  first_seen_at     INTEGER NOT NULL,
  last_seen_at      INTEGER NOT NULL,
  fixed_at          INTEGER,
  merged_at         INTEGER,
  branch            TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS errors_project_fingerprint ON errors(project_id, fingerprint);
CREATE INDEX IF NOT EXISTS errors_project_status ON errors(project_id, status);
CREATE INDEX IF NOT EXISTS errors_decay ON errors(status, merged_at);
CREATE TABLE IF NOT EXISTS collector_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Row = Dict[str, Any]
#: An HTTP answer: (status, JSON body).
Answer = Tuple[int, Dict[str, Any]]


class PatchError(Exception):
    """A PATCH the server answers 400 with this message."""


def now_ms() -> int:
    """``Date.now()``: milliseconds since the epoch."""
    return int(time.time() * 1000)


def _mint(prefix: str, nbytes: int = 16) -> str:
    return f"{prefix}_{secrets.token_hex(nbytes)}"


def _bindable(value: Any) -> Any:
    """A parsed JSON value as the server binds it: numbers (and booleans, as 1/0) as REAL."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return jsjson.as_stored(value)
    if value is None or isinstance(value, float):
        return value
    raise PatchError(
        f"D1_TYPE_ERROR: Type 'object' not supported for value '{jsjson.js_string(value)}'"
    )


class ErrorStore:
    """Projects and error groups in one SQLite database, safe to share across threads.

    ``path`` is a file path or ``":memory:"``. Every method takes one lock, so
    each ingest is atomic with respect to the others.
    """

    def __init__(self, path: str, *, fingerprint_cap: int = FINGERPRINT_CAP) -> None:
        """Open (creating if needed) the database at ``path``."""
        self.path = path
        self.fingerprint_cap = fingerprint_cap
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        if path != ":memory:":
            # WAL lets other readers of the file work while `serve` writes.
            self._conn.execute("PRAGMA journal_mode=WAL")
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def _one(self, sql: str, params: Tuple[Any, ...]) -> Optional[Row]:
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else dict(row)

    # -- projects -------------------------------------------------------------------

    def create_project(self, name: str) -> Row:
        """Create a project, minting its id, key and secret as the server does."""
        with self._lock, self._conn:
            return self._insert_project(name, _mint("pk_live"))

    def _insert_project(self, name: str, key: str) -> Row:
        row = {
            "id": _mint("proj"),
            "name": name,
            "key": key,
            "secret": _mint("sk_live", 32),
            "created_at": now_ms(),
        }
        self._conn.execute(
            "INSERT INTO projects (id, name, key, secret, created_at) VALUES (?, ?, ?, ?, ?)",
            (row["id"], jsjson.as_stored(name), key, row["secret"], row["created_at"]),
        )
        return row

    def count_projects_since(self, since_ms: int) -> int:
        """Projects created after ``since_ms``."""
        with self._lock:
            row = self._one("SELECT COUNT(*) AS c FROM projects WHERE created_at > ?", (since_ms,))
        return int(row["c"]) if row else 0

    def project_by(self, column: str, value: str) -> Optional[Row]:
        """The project whose ``column`` (``id``, ``key`` or ``secret``) is ``value``."""
        if column not in ("id", "key", "secret"):
            raise ValueError(column)
        with self._lock:
            return self._one(f"SELECT * FROM projects WHERE {column} = ?", (value,))

    def ensure_key(self, key: str) -> Row:
        """The project using ``key``, created (named after it) when there is none."""
        with self._lock, self._conn:
            found = self._one("SELECT * FROM projects WHERE key = ?", (key,))
            return found or self._insert_project(key, key)

    def default_project(self) -> Tuple[Row, bool]:
        """``(project, created)``: the project ``ez-pixel serve`` reports to by default."""
        with self._lock:
            setting = self._one(
                "SELECT value FROM collector_settings WHERE name = 'default_project'", ()
            )
        project = self.project_by("id", setting["value"]) if setting else None
        if project is not None:
            return project, False
        project = self.create_project("default")
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO collector_settings (name, value)"
                " VALUES ('default_project', ?)",
                (project["id"],),
            )
        return project, True

    # -- ingest ---------------------------------------------------------------------

    def ingest(self, event: Dict[str, Any]) -> Answer:
        """Store one validated event; the server's answer (``TooDeep`` means HTTP 500)."""
        with self._lock, self._conn:
            project = self._one("SELECT * FROM projects WHERE key = ?", (event["project_key"],))
            if project is None:
                return 401, {"error": "unknown project_key"}
            existing = self._one(
                "SELECT * FROM errors WHERE project_id = ? AND fingerprint = ?",
                (project["id"], event["fingerprint"]),
            )
            now = now_ms()
            stack = event.get("stack")
            context = event.get("code_context")
            stack_json = jsjson.stringify(stack) if jsjson.is_truthy(stack) else None
            context_json = jsjson.stringify(context) if jsjson.is_truthy(context) else None
            newest = (
                jsjson.as_stored(event["type"]),
                jsjson.as_stored(event["message"]),
                stack_json,
                context_json,
                jsjson.as_stored(event["runtime"]),
            )
            if existing is None:
                return self._insert(project["id"], event, newest, now)
            if existing["last_event_id"] == event["event_id"]:
                return 200, {"error_id": existing["id"], "duplicate": True}
            recurred = existing["status"] == "merged"
            self._conn.execute(
                "UPDATE errors SET last_event_id = ?, occurrences = occurrences + 1,"
                " last_seen_at = ?, status = ?, recurrence_count = ?, type = ?, message = ?,"
                " stack = ?, code_context = ?, runtime = ? WHERE id = ?",
                (
                    jsjson.as_stored(event["event_id"]),
                    now,
                    "open" if recurred else existing["status"],
                    existing["recurrence_count"] + (1 if recurred else 0),
                    *newest,
                    existing["id"],
                ),
            )
            return 200, {"error_id": existing["id"], "created": False, "recurred": recurred}

    def _insert(
        self, project_id: str, event: Dict[str, Any], newest: Tuple[Any, ...], now: int
    ) -> Answer:
        tally = self._one("SELECT COUNT(*) AS c FROM errors WHERE project_id = ?", (project_id,))
        if tally and tally["c"] >= self.fingerprint_cap:
            return 429, {"error": "project fingerprint cap reached"}
        error_id = _mint("err")
        self._conn.execute(
            "INSERT INTO errors (id, last_event_id, project_id, fingerprint, status, type,"
            " message, stack, code_context, runtime, occurrences, recurrence_count,"
            " first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, 1, 0, ?, ?)",
            (
                error_id,
                jsjson.as_stored(event["event_id"]),
                project_id,
                event["fingerprint"],
                *newest,
                now,
                now,
            ),
        )
        return 200, {"error_id": error_id, "created": True, "recurred": False}

    # -- management -----------------------------------------------------------------

    def list_errors(self, project_id: str, status: Optional[str] = None) -> List[Row]:
        """A project's groups, most recently seen first, optionally of one status."""
        with self._lock:
            if status:
                if status not in STATUSES:
                    raise PatchError(f"invalid status: {status}")
                rows = self._conn.execute(
                    "SELECT * FROM errors WHERE project_id = ? AND status = ?"
                    " ORDER BY last_seen_at DESC",
                    (project_id, status),
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT * FROM errors WHERE project_id = ? ORDER BY last_seen_at DESC",
                    (project_id,),
                ).fetchall()
        return [dict(row) for row in rows]

    def get_error(self, error_id: str) -> Optional[Row]:
        """One group by id, or None."""
        with self._lock:
            return self._one("SELECT * FROM errors WHERE id = ?", (error_id,))

    def patch_error(self, error_id: str, body: Any) -> Optional[Row]:
        """Apply ``{"status"?, "branch"?}`` as the server does; None if the group is gone."""
        if body is None:
            raise PatchError("Cannot read properties of null (reading 'status')")
        fields = body if isinstance(body, dict) else {}
        updates: List[str] = []
        params: List[Any] = []
        if "status" in fields:
            status = fields["status"]
            if not isinstance(status, str) or status not in STATUSES:
                raise PatchError(f"invalid status: {jsjson.js_string(status)}")
            updates.append("status = ?")
            params.append(status)
            if status in ("awaiting_review", "merged"):
                updates.append("fixed_at = ?" if status == "awaiting_review" else "merged_at = ?")
                params.append(now_ms())
        if "branch" in fields:
            updates.append("branch = ?")
            params.append(_bindable(fields["branch"]))
        with self._lock, self._conn:
            existing = self._one("SELECT * FROM errors WHERE id = ?", (error_id,))
            if existing is None or not updates:
                return existing
            self._conn.execute(
                f"UPDATE errors SET {', '.join(updates)} WHERE id = ?", (*params, error_id)
            )
            return self._one("SELECT * FROM errors WHERE id = ?", (error_id,))

    def delete_error(self, error_id: str) -> bool:
        """Delete one group; False if it did not exist."""
        with self._lock, self._conn:
            cursor = self._conn.execute("DELETE FROM errors WHERE id = ?", (error_id,))
            return cursor.rowcount > 0
