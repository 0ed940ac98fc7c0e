"""The scheduler's run history in the SQLite state database (one machine, one scheduler).

Each call opens its own short-lived connection: job threads and the scheduler thread never share
one, and WAL plus the busy timeout let a ``run`` by hand write while the service does. The
PostgreSQL twin is :mod:`pipeline.stores.postgres.history`; the statements both run are in
:mod:`pipeline.stores.sql.history`, the shared types in :mod:`pipeline.schedule.history`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.schedule.history import ABANDONED
from pipeline.stores import statedb
from pipeline.stores.sql.history import HistoryRules
from pipeline.stores.sqlite.access import SQLiteFolderAccess

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


class SQLiteRunHistory(SQLiteFolderAccess, HistoryRules):
    """:class:`~pipeline.stores.protocols.RunHistory` on the state folder's SQLite database."""

    def __init__(self, state_dir: str | Path):
        super().__init__(state_dir)
        with self._borrow() as conn:
            statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)

    def close_abandoned(self) -> int:
        """Runs still ``running`` whose process is gone (killed, power cut) become ``interrupted``.

        One machine: a process ID that no longer exists is proof enough.
        """
        rows = self._all("SELECT id, pid FROM schedule_runs WHERE outcome = 'running'")
        dead = [row["id"] for row in rows if not _alive(row["pid"])]
        for run_id in dead:
            self._run(
                "UPDATE schedule_runs SET outcome = 'interrupted', summary = ? WHERE id = ?",
                (ABANDONED, run_id),
            )
        return len(dead)


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
