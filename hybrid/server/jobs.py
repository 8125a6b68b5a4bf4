"""Batch jobs of the emulator and their logs, kept in SQLite (``DATA_DIR/jobs.sqlite``).

States: ``created`` -> ``queued`` -> ``running`` -> ``finished`` | ``error`` | ``canceled``.
:mod:`hybrid.server.runner` moves jobs through them; the store survives restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybrid.server.errors import JobNotFound

LOG_LEVELS = ("debug", "info", "warning", "error")
ACTIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    description TEXT,
    process TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    plan TEXT,
    budget REAL,
    log_level TEXT NOT NULL DEFAULT 'info',
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    error_node TEXT,
    files TEXT NOT NULL DEFAULT '[]',
    provenance TEXT NOT NULL DEFAULT '{}',
    root_url TEXT,
    assets TEXT,
    started TEXT,
    finished TEXT,
    job_options TEXT
);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id, created);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    time TEXT NOT NULL,
    level TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    node TEXT,
    data TEXT
);
CREATE INDEX IF NOT EXISTS logs_job ON logs (job_id, seq);
"""


_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    """Now as RFC 3339 UTC with a ``Z``."""
    return datetime.now(UTC).strftime(_UTC_FORMAT)


def parse_utc(text: str) -> datetime:
    """A time :func:`utc_now` wrote."""
    return datetime.strptime(text, _UTC_FORMAT).replace(tzinfo=UTC)


#: the provenance entry holding the process a run of the job ran
RAN_PROCESS = "process"


@dataclass(frozen=True)
class Job:
    id: str
    user_id: str
    title: str | None
    description: str | None
    process: dict[str, Any]
    status: str
    progress: float | None
    created: str
    updated: str
    plan: str | None
    budget: float | None
    log_level: str
    attempts: int
    error_code: str | None
    error_message: str | None
    error_node: str | None
    files: tuple[str, ...]
    provenance: dict[str, Any]
    #: the server's URL as the client that created the job reached it: the graph's URLs
    #: of this server are this server's against it (:mod:`hybrid.server.own_urls`);
    #: None for a job stored before it was kept
    root_url: str | None = None
    #: the STAC fields of result files that the files do not say, by file name
    #: (:attr:`hybrid.backends.base.ExecutionResult.assets`)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: when the last run began and ended (RFC 3339; None before a run began or ended)
    started: str | None = None
    finished: str | None = None
    #: the options the job was created with, as given (:mod:`hybrid.server.job_options`)
    job_options: Any = None

    @property
    def graph(self) -> dict[str, Any]:
        return dict(self.process.get("process_graph", {}))

    @property
    def results_graph(self) -> dict[str, Any]:
        """The graph whose run wrote the results, as recorded when it did
        (:data:`RAN_PROCESS`): a PATCH of ``process`` afterwards leaves the results as
        they are, so their description keeps this graph; :attr:`graph` before a run."""
        ran = self.provenance.get(RAN_PROCESS)
        return dict(ran.get("process_graph", {})) if isinstance(ran, dict) else self.graph


@dataclass(frozen=True)
class LogEntry:
    id: str
    time: str
    level: str
    code: str | None
    message: str
    node: str | None
    #: the entry's ``data`` (e.g. what a UDF's ``inspect`` logged), None for none
    data: Any = None


@dataclass(frozen=True)
class LogLine:
    """A log entry to write together with a status change (:meth:`JobStore.update`)."""

    level: str
    message: str
    code: str | None = None
    node: str | None = None
    data: Any = None


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["process"] = json.loads(values["process"])
    values["files"] = tuple(json.loads(values["files"]))
    values["provenance"] = json.loads(values["provenance"])
    values["assets"] = json.loads(values["assets"] or "{}")
    values["job_options"] = json.loads(values["job_options"] or "null")
    return Job(**values)


class JobStore:
    """Jobs and their logs in one SQLite file; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._add_column("logs", "data")  # a data folder of an older version
            self._add_column("jobs", "root_url")
            self._add_column("jobs", "assets")
            self._add_column("jobs", "started")
            self._add_column("jobs", "finished")
            self._add_column("jobs", "job_options")

    def _add_column(self, table: str, column: str) -> None:
        columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(
        self,
        *,
        user_id: str,
        process: Mapping[str, Any],
        title: str | None = None,
        description: str | None = None,
        plan: str | None = None,
        budget: float | None = None,
        log_level: str = "info",
        root_url: str | None = None,
        job_options: Any = None,
    ) -> Job:
        job_id = f"j-{uuid.uuid4().hex}"
        now = utc_now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, user_id, title, description, process, status, created,"
                " updated, plan, budget, log_level, root_url, job_options)"
                " VALUES (?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    user_id,
                    title,
                    description,
                    json.dumps(process),
                    now,
                    now,
                    plan,
                    budget,
                    log_level,
                    root_url,
                    None if job_options is None else json.dumps(job_options),
                ),
            )
        return self.get(job_id)

    def get(self, job_id: str, *, user_id: str | None = None) -> Job:
        """The job; ``JobNotFound`` also when it belongs to another user."""
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise JobNotFound(f"The batch job {job_id!r} does not exist.")
        return _job(row)

    def of_user(self, user_id: str, *, limit: int | None = None, skip: int = 0) -> list[Job]:
        """The user's jobs, newest first: ``limit`` of them (None: all) after ``skip``."""
        sql = "SELECT * FROM jobs WHERE user_id = ? ORDER BY created DESC, rowid DESC"
        params: tuple[Any, ...] = (user_id,)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = (user_id, limit, skip)
        with self._lock:
            return [_job(r) for r in self._db.execute(sql, params).fetchall()]

    def with_status(self, statuses: Sequence[str]) -> list[Job]:
        marks = ",".join("?" for _ in statuses)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created, rowid",
                tuple(statuses),
            ).fetchall()
        return [_job(r) for r in rows]

    def update(
        self,
        job_id: str,
        *,
        expect: Sequence[str] | None = None,
        log: LogLine | None = None,
        **fields: Any,
    ) -> bool:
        """Set ``fields``; with ``expect``, only if the status is one of them. True if done.

        ``log`` is written in the same transaction when the update is done, so that a
        client that sees the new status (``error``) also finds its log entry."""
        for key in ("process", "files", "provenance", "assets"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        fields["updated"] = utc_now()
        sql = "UPDATE jobs SET " + ", ".join(f"{k} = ?" for k in fields) + " WHERE id = ?"
        params: list[Any] = [*fields.values(), job_id]
        if expect is not None:
            sql += " AND status IN (" + ",".join("?" for _ in expect) + ")"
            params.extend(expect)
        with self._tx() as db:
            done = db.execute(sql, params).rowcount == 1
            if done and log is not None:
                _insert_log(db, job_id, log)
            return done

    def delete(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            db.execute("DELETE FROM logs WHERE job_id = ?", (job_id,))

    def log(
        self,
        job_id: str,
        level: str,
        message: str,
        *,
        code: str | None = None,
        node: str | None = None,
        data: Any = None,
    ) -> None:
        with self._tx() as db:
            _insert_log(db, job_id, LogLine(level, message, code, node, data))

    def logs(
        self,
        job_id: str,
        *,
        offset: str | None = None,
        level: str = "debug",
        limit: int | None = None,
    ) -> list[LogEntry]:
        """Entries at ``level`` or above, after the entry whose id is ``offset``."""
        levels = LOG_LEVELS[LOG_LEVELS.index(level) :]
        after = _log_position(offset)
        marks = ",".join("?" for _ in levels)
        sql = f"SELECT * FROM logs WHERE job_id = ? AND seq > ? AND level IN ({marks}) ORDER BY seq"
        params: list[Any] = [job_id, after, *levels]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            LogEntry(
                str(r["seq"]), r["time"], r["level"], r["code"], r["message"], r["node"], _data(r)
            )
            for r in rows
        ]


#: SQLite's largest integer: an offset beyond it is past every entry
_LAST_POSITION = 2**63 - 1


def _log_position(offset: str | None) -> int:
    """The entry id ``offset`` names (its ASCII digits: ``str.isdigit`` also takes
    ``²``, which ``int`` refuses), as far as SQLite counts; 0 (the first entry) for any
    other text, as an id the log never gave."""
    if not offset or not (offset.isascii() and offset.isdigit()):
        return 0
    return min(int(offset), _LAST_POSITION)


def _data(row: sqlite3.Row) -> Any:
    return None if row["data"] is None else json.loads(row["data"])


def _insert_log(db: sqlite3.Connection, job_id: str, line: LogLine) -> None:
    data = None if line.data is None else json.dumps(line.data)
    db.execute(
        "INSERT INTO logs (job_id, time, level, code, message, node, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (job_id, utc_now(), line.level, line.code, line.message, line.node, data),
    )
