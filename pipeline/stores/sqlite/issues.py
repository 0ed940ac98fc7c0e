"""Newsletter issues in SQLite: today's tables, upgraded in place when the store opens."""

from __future__ import annotations

import sqlite3

from pipeline.stores import statedb
from pipeline.stores.sql.issues import IssueRules
from pipeline.stores.sqlite.access import SQLiteAccess

COMPONENT = "newsletter"

# Never edit an applied script; append a new one (and its PostgreSQL twin).
MIGRATIONS = [
    """
    CREATE TABLE newsletter_issues (
        number INTEGER PRIMARY KEY,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        created_at TEXT NOT NULL,
        items TEXT NOT NULL
    );
    CREATE TABLE newsletter_issue_updates (
        update_id TEXT PRIMARY KEY,
        issue INTEGER NOT NULL REFERENCES newsletter_issues (number)
    );
    """,
]


class SQLiteIssueStore(SQLiteAccess, IssueRules):
    """Issues in one state database connection (the caller closes it)."""

    def __init__(self, conn: sqlite3.Connection):
        super().__init__(conn)
        statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)


__all__ = ["MIGRATIONS", "SQLiteIssueStore"]
