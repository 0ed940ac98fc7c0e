"""An access that holds no connection: each statement borrows one, a transaction keeps one.

Both backends' long-lived stores work this way — PostgreSQL's borrow from the process's pool (so a
store survives a database restart), the SQLite run history opens a short-lived connection to the
state folder (job threads and the scheduler thread never share one). What differs is only where a
connection comes from and how a transaction begins: :meth:`BorrowingAccess._borrow` and
:meth:`BorrowingAccess._begin`. The connection a transaction holds is its thread's, so one store
object may serve several threads (the scheduler's run history does).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pipeline.stores.sql.access import SqlAccess


class BorrowingAccess(SqlAccess):
    """Abstract: a backend gives :meth:`_borrow` and :meth:`_begin`; ``kept`` pins one connection."""

    def __init__(self, *, kept: Any = None):
        self._kept = kept  # a connection kept for the store's whole life (the send log's, for a run)
        self._local = threading.local()

    @property
    def _held(self) -> Any:
        """The connection every statement uses now: the kept one, or this thread's transaction's."""
        return self._kept if self._kept is not None else getattr(self._local, "conn", None)

    def _borrow(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _begin(self, conn: Any, nested: bool) -> AbstractContextManager[Any]:
        """A transaction on ``conn``; ``nested`` when one is already in progress on it."""
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release: a borrowed connection goes back after every statement."""

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self._held is not None:
            yield self._held
        else:
            with self._borrow() as conn:
                yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        held = self._held
        if held is not None:
            with self._begin(held, nested=True):
                yield held
            return
        with self._borrow() as conn, self._begin(conn, nested=False):
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None


__all__ = ["BorrowingAccess"]
