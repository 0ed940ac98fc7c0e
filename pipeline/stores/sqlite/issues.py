"""Newsletter issues in SQLite: today's tables, upgraded in place when the store opens."""

from __future__ import annotations

import sqlite3

from pipeline.stores import statedb
from pipeline.stores.sql.issues import SCHEMA_V1, IssueRules
from pipeline.stores.sqlite.access import SQLiteAccess

COMPONENT = "newsletter"

# Never edit an applied script; append a new one (and its PostgreSQL twin; shared SQL in stores/sql/issues.py).
MIGRATIONS = [SCHEMA_V1]


class SQLiteIssueStore(SQLiteAccess, IssueRules):
    """Issues in one state database connection (the caller closes it)."""

    def __init__(self, conn: sqlite3.Connection):
        super().__init__(conn)
        statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)


__all__ = ["MIGRATIONS", "SQLiteIssueStore"]
