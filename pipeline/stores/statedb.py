"""The state database (SQLite, in the state folder, never in outputs/).

Newsletter issues, subscribers, the send log and the scheduler's run history live here. Each
feature owns its tables and declares them with :func:`ensure_schema`, which applies numbered
migrations once and records them, so an old state folder is upgraded in place and never lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "state.sqlite3"


def connect(state_dir: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the state database with settings safe for several processes.

    WAL lets the scheduler, a ``send`` and the web service read and write concurrently; the busy
    timeout makes a writer wait for another instead of failing at once. Autocommit mode
    (``isolation_level=None``): callers make their own ``BEGIN IMMEDIATE`` transactions.
    """
    folder = Path(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / DB_NAME, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error): the one transaction helper.

    IMMEDIATE takes the write lock at the start, so two writers queue (busy timeout) instead of
    one failing at its first write. A process killed inside leaves the rows as they were before.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite ends the transaction by itself on some errors (a full disk): a ROLLBACK then
        # fails with "no transaction is active" and would hide the real error from the user.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def ensure_schema(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> tuple[int, int]:
    """Apply ``migrations[n:]`` for ``component`` where ``n`` is how many were applied before.

    Each migration is a SQL script; append new ones, never edit old ones. Returns the versions
    (before, after). A database upgraded by a newer goal17 is refused (``SchemaError``): this
    program would write rows the newer one does not expect.
    """
    from pipeline.stores.migrations import newer_error

    with transaction(conn):
        row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
        applied = row[0] if row else 0
        if applied > len(migrations):
            raise newer_error(component, applied, len(migrations))
        for script in migrations[applied:]:
            for statement in _statements(script):
                conn.execute(statement)
        if len(migrations) > applied:
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, len(migrations)),
            )
    return applied, max(applied, len(migrations))


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    statements, current = [], []
    for line in script.splitlines(keepends=True):
        current.append(line)
        candidate = "".join(current)
        if sqlite3.complete_statement(candidate):
            if candidate.strip():
                statements.append(candidate)
            current = []
    rest = "".join(current).strip()
    if rest:
        statements.append(rest)
    return statements
