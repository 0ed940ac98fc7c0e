"""PostgreSQL's side of :class:`~pipeline.stores.sql.access.SqlAccess`: pooled connections.

A store does not keep a connection: each read outside a transaction borrows one from the
process's pool for that statement, and a transaction holds one until it ends. So a long-lived
store (the web service's) survives a database restart, and a pool of a few connections serves
many stores (:class:`~pipeline.stores.sql.borrowing.BorrowingAccess`; the connection a transaction
holds is its thread's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from pipeline.stores.postgres import connection
from pipeline.stores.sql.access import Row
from pipeline.stores.sql.borrowing import BorrowingAccess


def placeholders(sql: str) -> str:
    """``?`` → ``%s``; the shared SQL never contains a literal ``?`` or ``%``."""
    assert "%" not in sql, sql
    return sql.replace("?", "%s")


class PostgresAccess(BorrowingAccess):
    """Statements on the database at ``url``; ``FOR UPDATE`` locks rows read inside a transaction."""

    FOR_UPDATE = " FOR UPDATE"

    def __init__(self, url: str, *, conn: Any = None):
        """``conn``: a pooled connection the store keeps for its whole life (the send log's, for a
        run, whose statements then all go through it); otherwise each statement borrows one."""
        super().__init__(kept=conn)
        self.url = url

    def _borrow(self) -> AbstractContextManager[Any]:
        return connection(self.url)

    def _begin(self, conn: Any, nested: bool) -> AbstractContextManager[Any]:
        return conn.transaction()  # nested: a savepoint inside the transaction in progress

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        from psycopg.rows import dict_row

        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(placeholders(sql), tuple(params))
            return cursor.fetchall() if cursor.description else []

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.execute(placeholders(sql), tuple(params))
            return cursor.rowcount

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(placeholders(sql), [tuple(row) for row in rows])

    def _advisory_lock(self, key: int) -> None:
        """Serialise with every other holder of ``key`` until this transaction ends."""
        self._run("SELECT pg_advisory_xact_lock(?)", (key,))


__all__ = ["PostgresAccess", "placeholders"]
