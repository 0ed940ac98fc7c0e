"""The subscriber list in SQLite: today's tables, upgraded in place when the store opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.stores import statedb
from pipeline.stores.sql.subscribers import SubscriberRules, schema_v1
from pipeline.stores.sqlite.access import SQLiteAccess

COMPONENT = "subscribers"

# Never edit an applied script; append a new one (and its PostgreSQL twin).
MIGRATIONS = [schema_v1(key="INTEGER PRIMARY KEY", ref="INTEGER")]


class SQLiteSubscriberStore(SQLiteAccess, SubscriberRules):
    """The subscriber list in one state database; open with :meth:`open` or wrap a connection."""

    def __init__(self, conn: sqlite3.Connection):
        super().__init__(conn)
        statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)

    @classmethod
    def open(cls, state_dir: str | Path) -> SQLiteSubscriberStore:
        return cls(statedb.connect(state_dir))


__all__ = ["MIGRATIONS", "SQLiteSubscriberStore"]
