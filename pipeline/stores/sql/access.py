"""The few primitives the shared store rules need from a database, whatever the engine.

SQL is written with ``?`` placeholders (SQLite's); the PostgreSQL access translates them to
psycopg's ``%s``. Rows come back as mappings keyed by column name, so the rules never depend on
column positions. ``FOR_UPDATE`` is the row-lock clause a read inside a write transaction adds:
empty for SQLite (``BEGIN IMMEDIATE`` already holds the whole database), ``FOR UPDATE`` for
PostgreSQL (rows are locked one by one, so two instances changing one subscriber queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Self

Row = Mapping[str, Any]


class SqlAccess:
    """Abstract: implemented by :class:`SQLiteAccess` and :class:`PostgresAccess`."""

    FOR_UPDATE: ClassVar[str] = ""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a change; returns the number of rows it touched."""
        raise NotImplementedError

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Any]:
        """One write transaction (rolled back on any error)."""
        raise NotImplementedError


__all__ = ["Row", "SqlAccess"]
