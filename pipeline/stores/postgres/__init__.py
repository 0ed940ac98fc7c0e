"""PostgreSQL connections: one psycopg 3 pool per database URL and process.

Why a pool: the web service answers many short requests and a sender claims batches in a loop;
opening a PostgreSQL connection costs a round trip and a backend process each time. The pool is
made lazily, per process (a forked worker must never reuse its parent's sockets, so the pool is
keyed by PID too), and closed at exit.

Transactions use psycopg's ``conn.transaction()``; isolation is READ COMMITTED (the default) and
the stores take row locks (``FOR UPDATE``, ``SKIP LOCKED``) or advisory locks where they need them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipeline.stores.errors import (
    DatabaseUnavailable as DatabaseUnavailable,
)  # where it has always been importable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

_pools: dict[tuple[int, str], ConnectionPool] = {}
_guard = threading.Lock()


def pool(url: str, *, max_size: int = 8) -> ConnectionPool:
    """The process's pool for ``url`` (created on first use, opened at once so errors show here)."""
    from psycopg_pool import ConnectionPool, PoolTimeout

    from pipeline.config.state import redact

    key = (os.getpid(), url)
    with _guard:
        found = _pools.get(key)
        if found is not None:
            return found
        _probe(url)
        # The pool's own retries log multi-line "error connecting in …" warnings; our callers turn
        # a failure into one DatabaseUnavailable line, so only the pool's errors may be shown.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        made = ConnectionPool(
            url, min_size=1, max_size=max_size, open=False, timeout=15, kwargs={"autocommit": True},
            name=f"goal17-{os.getpid()}",
            # A connection the server ended (a restart, a failover) is replaced on checkout: else
            # the first statement after the database came back fails, e.g. in a standby scheduler.
            check=ConnectionPool.check_connection,
        )  # fmt: skip
        try:
            made.open(wait=True, timeout=15)
        except PoolTimeout as exc:
            made.close()
            raise DatabaseUnavailable(f"cannot connect to the database {redact(url)}: {exc}") from None
        _pools[key] = made
        return made


def _probe(url: str) -> None:
    """One direct connection first: it fails at once with the server's reason, where the pool
    would retry for 15 s and then only say that it timed out."""
    import psycopg

    from pipeline.config.state import redact

    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to the database {redact(url)}: {reason}") from None


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    """A pooled connection in autocommit mode; use ``with conn.transaction():`` for atomic work."""
    import psycopg

    from pipeline.config.state import redact

    try:
        with pool(url).connection() as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"database {redact(url)}: {str(exc).strip().splitlines()[0]}") from None


def close_all() -> None:
    """Close this process's pools (at exit, and in tests that start and stop servers)."""
    with _guard:
        mine = [key for key in _pools if key[0] == os.getpid()]
        for key in mine:
            _pools.pop(key).close()


atexit.register(close_all)

__all__ = ["DatabaseUnavailable", "close_all", "connection", "pool"]
