"""SQLite storage for the local collector: error groups and projects.

One row per (project_key, fingerprint) holds the newest event's details plus
counters, exactly like the hosted pixel server's store, so what a developer sees
locally is what the hosted server would keep.
"""

import json
import secrets
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from ez_pixel.contract import FIELDS, validate_event

#: New fingerprints a project may open before the server answers 429.
DEFAULT_FINGERPRINT_CAP = 10_000

#: The contract's fields; anything else in an event is kept as ``extra``.
EVENT_FIELDS = frozenset(FIELDS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS error_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    level TEXT NOT NULL,
    stack TEXT NOT NULL,
    code_context TEXT,
    runtime TEXT NOT NULL,
    manual_report INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    extra TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    occurrences INTEGER NOT NULL,
    last_event_id TEXT NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0,
    resolved_at TEXT,
    recurrence_count INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    UNIQUE (project_key, fingerprint)
);
CREATE INDEX IF NOT EXISTS error_groups_seq ON error_groups (seq);
"""

# Columns overwritten with the newest event's values on every stored event.
_NEWEST_COLUMNS = (
    "type",
    "message",
    "level",
    "stack",
    "code_context",
    "runtime",
    "manual_report",
    "occurred_at",
    "extra",
)

Answer = Tuple[int, Dict[str, Any]]


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with microseconds and a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event_columns(event: Dict[str, Any]) -> Dict[str, Any]:
    """Map a validated event to the values of the columns it overwrites."""
    code_context = event.get("code_context")
    extra = {k: v for k, v in event.items() if k not in EVENT_FIELDS}
    return {
        "type": event["type"],
        "message": event["message"],
        "level": event["level"],
        "stack": json.dumps(event["stack"]),
        "code_context": None if code_context is None else json.dumps(code_context),
        "runtime": event["runtime"],
        "manual_report": int(event["manual_report"]),
        "occurred_at": event["occurred_at"],
        "extra": json.dumps(extra),
    }


def _row_to_group(row: sqlite3.Row) -> Dict[str, Any]:
    """Turn a stored row into the group dict served by the API."""
    names = row.keys()  # iterating a Row yields values, not names
    group = {name: row[name] for name in names if name != "seq"}
    group["stack"] = json.loads(row["stack"])
    group["code_context"] = None if row["code_context"] is None else json.loads(row["code_context"])
    group["extra"] = json.loads(row["extra"])
    group["manual_report"] = bool(row["manual_report"])
    group["resolved"] = bool(row["resolved"])
    return group


class ErrorStore:
    """Error groups and projects in one SQLite database, safe to share across threads.

    ``path`` is a file path or ``":memory:"``. Every method takes one lock, so
    each ingest is atomic with respect to the others.
    """

    def __init__(self, path: str, *, fingerprint_cap: int = DEFAULT_FINGERPRINT_CAP) -> None:
        """Open (creating if needed) the database at ``path``."""
        self.path = path
        self.fingerprint_cap = fingerprint_cap
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        if path != ":memory:":
            # WAL lets `ez-pixel errors --db` read while `serve` writes.
            self._conn.execute("PRAGMA journal_mode=WAL")
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def ingest(self, event: Dict[str, Any]) -> Answer:
        """Store one event and return the server's ``(status, body)`` answer."""
        error = validate_event(event)
        if error is not None:
            return 400, {"error": error}
        with self._lock, self._conn:
            row = self._conn.execute(
                "SELECT id, last_event_id, resolved FROM error_groups"
                " WHERE project_key = ? AND fingerprint = ?",
                (event["project_key"], event["fingerprint"]),
            ).fetchone()
            if row is None:
                return self._open_group(event)
            if row["last_event_id"] == event["event_id"]:
                return 200, {"error_id": row["id"], "duplicate": True}
            return self._bump_group(row["id"], bool(row["resolved"]), event)

    def _next_seq(self) -> int:
        """Return the next ordering number (newest activity sorts first)."""
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM error_groups").fetchone()
        return int(row[0])

    def _open_group(self, event: Dict[str, Any]) -> Answer:
        """Insert a new group for an unseen fingerprint, unless the project is at its cap."""
        count = self._conn.execute(
            "SELECT COUNT(*) FROM error_groups WHERE project_key = ?", (event["project_key"],)
        ).fetchone()[0]
        if count >= self.fingerprint_cap:
            return 429, {"error": "project fingerprint cap reached"}
        now = utc_now()
        values = _event_columns(event)
        values.update(
            project_key=event["project_key"],
            fingerprint=event["fingerprint"],
            first_seen_at=now,
            last_seen_at=now,
            occurrences=1,
            last_event_id=event["event_id"],
            seq=self._next_seq(),
        )
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self._conn.execute(
            f"INSERT INTO error_groups ({names}) VALUES ({marks})", tuple(values.values())
        )
        return 200, {"error_id": cursor.lastrowid, "created": True, "recurred": False}

    def _bump_group(self, group_id: int, resolved: bool, event: Dict[str, Any]) -> Answer:
        """Count one more occurrence and keep the newest event's details."""
        values = _event_columns(event)
        assignments = ", ".join(f"{name} = ?" for name in _NEWEST_COLUMNS)
        params = [values[name] for name in _NEWEST_COLUMNS]
        params += [utc_now(), event["event_id"], self._next_seq(), int(resolved), group_id]
        self._conn.execute(
            f"UPDATE error_groups SET {assignments}, occurrences = occurrences + 1,"
            " last_seen_at = ?, last_event_id = ?, seq = ?,"
            " recurrence_count = recurrence_count + ?, resolved = 0, resolved_at = NULL"
            " WHERE id = ?",
            params,
        )
        return 200, {"error_id": group_id, "created": False, "recurred": resolved}

    def resolve(self, group_id: int) -> bool:
        """Mark a group resolved (its fix merged); return False if it does not exist."""
        with self._lock, self._conn:
            cursor = self._conn.execute(
                "UPDATE error_groups SET resolved = 1, resolved_at = ? WHERE id = ?",
                (utc_now(), group_id),
            )
            return cursor.rowcount > 0

    def list_groups(
        self, project_key: Optional[str] = None, limit: int = 100
    ) -> List[Dict[str, Any]]:
        """Return up to ``limit`` groups, most recently seen first."""
        query = "SELECT * FROM error_groups"
        params: List[Any] = []
        if project_key is not None:
            query += " WHERE project_key = ?"
            params.append(project_key)
        query += " ORDER BY seq DESC LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [_row_to_group(row) for row in rows]

    def get_group(self, group_id: int) -> Optional[Dict[str, Any]]:
        """Return one group by id, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM error_groups WHERE id = ?", (group_id,)
            ).fetchone()
        return None if row is None else _row_to_group(row)

    def create_project(self, name: str) -> Dict[str, Any]:
        """Create a project and return ``{"id", "key", "secret"}``.

        Creating a name that already exists returns the existing project, so
        ``ez-pixel install`` can be run twice.
        """
        return self.ensure_project(name)[0]

    def ensure_project(self, name: str) -> Tuple[Dict[str, Any], bool]:
        """Return ``(project, created)`` for ``name``, creating it when absent."""
        with self._lock, self._conn:
            row = self._conn.execute(
                "SELECT id, key, secret FROM projects WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                return {"id": row["id"], "key": row["key"], "secret": row["secret"]}, False
            key = "pk_test_" + secrets.token_urlsafe(18)
            secret = "sk_test_" + secrets.token_urlsafe(24)
            cursor = self._conn.execute(
                "INSERT INTO projects (name, key, secret, created_at) VALUES (?, ?, ?, ?)",
                (name, key, secret, utc_now()),
            )
            return {"id": cursor.lastrowid, "key": key, "secret": secret}, True

    def has_project_key(self, key: str) -> bool:
        """Return True if a project created here uses ``key``."""
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM projects WHERE key = ?", (key,)).fetchone()
        return row is not None
