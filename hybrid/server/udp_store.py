"""User-defined processes (``/process_graphs``) in one SQLite file, one namespace per user.

A process stored by one user is invisible to every other user - each read names its owner -
unless it is published (``"public": true``, :mod:`hybrid.server.udp_sharing`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from hybrid.server.errors import ApiError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS udps (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    process TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
);
"""


class ProcessGraphNotFound(ApiError):
    code = "ProcessGraphNotFound"
    status = 404


class UdpStore:
    """Stored process objects (``{"id", "process_graph", "parameters", ...}``) per user."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, user_id: str, process: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO udps (user_id, id, process) VALUES (?, ?, ?)",
                (user_id, process["id"], json.dumps(process)),
            )

    def find(self, user_id: str, process_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT process FROM udps WHERE user_id = ? AND id = ?", (user_id, process_id)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def get(self, user_id: str, process_id: str) -> dict[str, Any]:
        found = self.find(user_id, process_id)
        if found is None:
            raise ProcessGraphNotFound(f"User-defined process '{process_id}' does not exist.")
        return found

    def of_user(
        self, user_id: str, *, limit: int | None = None, skip: int = 0
    ) -> list[dict[str, Any]]:
        """The user's processes by id: ``limit`` of them (None: all) after ``skip``."""
        query = "SELECT process FROM udps WHERE user_id = ? ORDER BY id"
        params: tuple[Any, ...] = (user_id,)
        if limit is not None:
            query += " LIMIT ? OFFSET ?"
            params = (user_id, limit, skip)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [dict(json.loads(row[0])) for row in rows]

    def delete(self, user_id: str, process_id: str) -> None:
        self.get(user_id, process_id)
        with self._lock:
            self._db.execute("DELETE FROM udps WHERE user_id = ? AND id = ?", (user_id, process_id))
