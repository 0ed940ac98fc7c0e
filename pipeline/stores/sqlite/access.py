"""SQLite's side of :class:`~pipeline.stores.sql.access.SqlAccess`: one connection per store, or one per statement."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from pipeline.stores import statedb
from pipeline.stores.sql.access import Row, SqlAccess
from pipeline.stores.sql.borrowing import BorrowingAccess


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


class SQLiteFolderAccess(BorrowingAccess):
    """Statements on the state folder's database, each on a short-lived connection of its own.

    For a store shared by threads (the run history: job threads and the scheduler thread); WAL
    and the busy timeout let writers on other connections queue. SQLite has no savepoint here:
    a transaction inside one joins it.
    """

    def __init__(self, state_dir: str | Path):
        super().__init__()
        self.state_dir = Path(state_dir)

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        conn = statedb.connect(self.state_dir)
        try:
            yield conn
        finally:
            conn.close()

    def _begin(self, conn: sqlite3.Connection, nested: bool) -> AbstractContextManager[object]:
        return nullcontext() if nested else statedb.transaction(conn)

    def close(self) -> None:
        """Nothing to release: every connection is closed after its statement."""

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._connection() as conn:
            return conn.execute(sql, tuple(params)).fetchall()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._connection() as conn:
            return conn.execute(sql, tuple(params)).rowcount

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection() as conn:
            conn.executemany(sql, rows)


__all__ = ["SQLiteAccess", "SQLiteFolderAccess"]
