"""SQLite's side of :class:`~pipeline.stores.sql.access.SqlAccess`: one connection per store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from pipeline.stores import statedb
from pipeline.stores.sql.access import Row, SqlAccess


class SQLiteAccess(SqlAccess):
    """Wraps a :func:`pipeline.stores.statedb.connect` connection (rows are ``sqlite3.Row``)."""

    FOR_UPDATE = ""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, tuple(params)).rowcount

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return statedb.transaction(self.conn)


__all__ = ["SQLiteAccess"]
