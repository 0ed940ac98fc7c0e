"""The scheduler's run history in the SQLite state database (one machine, one scheduler).

Each call opens its own short-lived connection: job threads and the scheduler thread never share
one, and WAL plus the busy timeout let a ``run`` by hand write while the service does. The
PostgreSQL twin is :mod:`pipeline.stores.postgres.history`; the shared types are in
:mod:`pipeline.schedule.history`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.schedule.history import ABANDONED, RunRow, from_utc_text, run_row, utc_text
from pipeline.stores import statedb

COMPONENT = "schedule"
MIGRATIONS = [
    """
    CREATE TABLE schedule_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        kind TEXT NOT NULL,
        trigger TEXT NOT NULL,         -- schedule | catch-up | manual
        scheduled_for TEXT,            -- the fire time it belongs to (NULL for manual runs)
        started_at TEXT,
        finished_at TEXT,
        duration_s REAL,
        outcome TEXT NOT NULL,         -- running | success | failed | interrupted | missed | skipped
        summary TEXT,
        error TEXT,                    -- the traceback of a failed run
        pid INTEGER
    );
    CREATE INDEX schedule_runs_job ON schedule_runs (job, id);
    CREATE TABLE schedule_jobs (
        job TEXT PRIMARY KEY,
        trigger TEXT NOT NULL,         -- the trigger's description when last_fire was recorded
        last_fire TEXT NOT NULL
    );
    """,
]


class SQLiteRunHistory:
    """:class:`~pipeline.stores.protocols.RunHistory` on the state folder's SQLite database."""

    def __init__(self, state_dir: str | Path):
        self.state_dir = Path(state_dir)
        with self._connect() as conn:
            statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = statedb.connect(self.state_dir)
        try:
            yield conn
        finally:
            conn.close()

    def start(self, job: str, kind: str, trigger: str, scheduled_for: datetime | None = None) -> int:
        """Record a run as ``running`` before it starts, so a crash leaves a trace."""
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, started_at, outcome, pid) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (
                    job,
                    kind,
                    trigger,
                    utc_text(scheduled_for) if scheduled_for else None,
                    utc_text(datetime.now(UTC)),
                    os.getpid(),
                ),
            )
            return int(cursor.lastrowid)

    def finish(
        self,
        run_id: int,
        outcome: str,
        started: datetime,
        finished: datetime,
        summary: str | None = None,
        error: str | None = None,
        last_fire: tuple[str, datetime] | None = None,
    ) -> None:
        with self._connect() as conn, statedb.transaction(conn):
            conn.execute(
                "UPDATE schedule_runs SET outcome = ?, started_at = ?, finished_at = ?, duration_s = ?, "
                "summary = ?, error = ? WHERE id = ?",
                (
                    outcome,
                    utc_text(started),
                    utc_text(finished),
                    round((finished - started).total_seconds(), 3),
                    summary,
                    error,
                    run_id,
                ),
            )
            if last_fire is not None:
                (job,) = conn.execute("SELECT job FROM schedule_runs WHERE id = ?", (run_id,)).fetchone()
                self._set_last_fire(conn, job, *last_fire)

    def set_scheduled_for(self, run_id: int, scheduled_for: datetime) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE schedule_runs SET scheduled_for = ? WHERE id = ?", (utc_text(scheduled_for), run_id)
            )

    def mark_interrupted(self, run_id: int, summary: str) -> None:
        now = utc_text(datetime.now(UTC))
        with self._connect() as conn:
            conn.execute(
                "UPDATE schedule_runs SET outcome = 'interrupted', finished_at = ?, summary = ? "
                "WHERE id = ? AND outcome = 'running'",
                (now, summary, run_id),
            )

    def record_skip(
        self,
        job: str,
        kind: str,
        outcome: str,
        scheduled_for: datetime,
        summary: str,
        trigger: str = "schedule",
    ) -> None:
        """A fire time that did not run: ``missed`` (too late) or ``skipped`` (still running)."""
        assert outcome in ("missed", "skipped")
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, outcome, summary, pid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job, kind, trigger, utc_text(scheduled_for), outcome, summary, os.getpid()),
            )

    def record_warning(self, job: str, kind: str, at: datetime, summary: str) -> None:
        """Something about ``job`` an operator should see in its history (outcome ``warning``)."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, outcome, summary, pid) "
                "VALUES (?, ?, 'schedule', ?, 'warning', ?, ?)",
                (job, kind, utc_text(at), summary, os.getpid()),
            )

    def clamp_last_fire(self, job: str, now: datetime) -> None:
        """Move a last fire time that lies after ``now`` back to ``now`` (the clock was set back).

        :meth:`set_last_fire` never moves backwards, so without this every fire time until the
        future one would be dropped, and a restart would still see the future time.
        """
        with self._connect() as conn:
            conn.execute(
                "UPDATE schedule_jobs SET last_fire = ? WHERE job = ? AND last_fire > ?",
                (utc_text(now), job, utc_text(now)),
            )

    def close_abandoned(self) -> int:
        """Runs still ``running`` whose process is gone (killed, power cut) become ``interrupted``.

        One machine: a process ID that no longer exists is proof enough.
        """
        with self._connect() as conn:
            rows = conn.execute("SELECT id, pid FROM schedule_runs WHERE outcome = 'running'").fetchall()
            dead = [row["id"] for row in rows if not _alive(row["pid"])]
            for run_id in dead:
                conn.execute(
                    "UPDATE schedule_runs SET outcome = 'interrupted', summary = ? WHERE id = ?",
                    (ABANDONED, run_id),
                )
            return len(dead)

    def last_fire(self, job: str) -> tuple[str, datetime] | None:
        """The trigger (as described then) and the last fire time dealt with for ``job``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT trigger, last_fire FROM schedule_jobs WHERE job = ?", (job,)
            ).fetchone()
        if row is None:
            return None
        return row["trigger"], from_utc_text(row["last_fire"])

    def set_last_fire(self, job: str, trigger: str, fire_time: datetime) -> None:
        """Remember a fire time as dealt with (run, failed or skipped); never moves backwards."""
        with self._connect() as conn:
            self._set_last_fire(conn, job, trigger, fire_time)

    def _set_last_fire(self, conn: sqlite3.Connection, job: str, trigger: str, fire_time: datetime) -> None:
        conn.execute(
            "INSERT INTO schedule_jobs (job, trigger, last_fire) VALUES (?, ?, ?) "
            "ON CONFLICT(job) DO UPDATE SET last_fire = excluded.last_fire, trigger = excluded.trigger "
            "WHERE excluded.trigger != schedule_jobs.trigger OR excluded.last_fire > schedule_jobs.last_fire",
            (job, trigger, utc_text(fire_time)),
        )

    def runs(self, job: str | None = None, limit: int = 100) -> list[RunRow]:
        """The newest runs first."""
        query = "SELECT * FROM schedule_runs"
        params: tuple = ()
        if job is not None:
            query += " WHERE job = ?"
            params = (job,)
        query += " ORDER BY id DESC LIMIT ?"
        with self._connect() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [run_row(row) for row in rows]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["COMPONENT", "MIGRATIONS", "SQLiteRunHistory"]
