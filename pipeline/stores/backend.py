"""The storage seam: one ``Backend`` per process and settings, chosen once from ``[state]``.

Callers never ask "is this PostgreSQL?": they call ``open_backend(settings)`` and then
``backend.subscribers()``, ``backend.issues()`` … and get that backend's implementation of the
store's protocol (:mod:`pipeline.stores.protocols`). Adding a backend is new store classes plus one
line in :data:`BACKENDS`.

Stores that hold a connection are context managers: SQLite connections are cheap but must be
closed by the thread that opened them; PostgreSQL connections go back to the process's pool.

Opening a backend checks its schema once (:mod:`pipeline.stores.migrations`): SQLite upgrades
itself (the embedded default, as before), PostgreSQL must already be migrated by ``db migrate``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.config.state import StateConfig
from pipeline.stores import migrations, statedb

if TYPE_CHECKING:
    from pipeline.config.site import Settings
    from pipeline.config.web import WebConfig
    from pipeline.stores.protocols import IssueStore, RateLimits, SubscriberStore, WebSubPendingStore

# One advisory lock key for schema changes, so two ``db migrate`` runs queue instead of racing.
MIGRATION_LOCK = 0x6F61_6C17


class Backend:
    """Where all shared state lives; subclasses implement each store for one database engine."""

    name: ClassVar[str]

    def __init__(self, config: StateConfig):
        self.config = config

    @property
    def display_url(self) -> str:
        """The database, without its password, for messages."""
        return self.config.display_url

    # -- schema (used by pipeline.stores.migrations) -------------------------------------------

    def connection(self) -> AbstractContextManager[Any]:
        """A raw connection (for migrations, ``db copy`` and the stores of this backend)."""
        raise NotImplementedError

    def schema_versions(self) -> dict[str, int]:
        """Each component's recorded version (none recorded: an empty database)."""
        raise NotImplementedError

    def apply_migrations(self, component: str, scripts: Sequence[str]) -> tuple[int, int]:
        """Apply the missing ``scripts`` of ``component`` in one transaction; (before, after)."""
        raise NotImplementedError

    def start(self) -> None:
        """What every process does once before using the stores: make sure the schema fits."""
        migrations.check(self)

    def prepare(self, component: str) -> None:
        """Make sure ``component``'s tables are there before its store is used.

        A no-op where only ``db migrate`` changes the schema (checked by :meth:`start`).
        """

    # -- the stores (each owner fills in its own lines) ----------------------------------------

    def subscribers(self) -> AbstractContextManager[SubscriberStore]:
        """The subscriber list with its consent log and suppression list."""
        raise self._missing("subscribers")

    def issues(self) -> AbstractContextManager[IssueStore]:
        """Newsletter issues and which update went into which."""
        raise self._missing("issues")

    def send_log(self) -> AbstractContextManager[Any]:
        raise self._missing("send log")

    def run_history(self) -> Any:
        """The scheduler's run history and last fire times (:class:`protocols.RunHistory`)."""
        raise self._missing("schedule run history")

    def rate_limits(self, web: WebConfig) -> RateLimits:
        """The web service's per-client and per-address limits, as ``web`` sets them."""
        raise self._missing("web rate limits")

    def websub_pending(self) -> AbstractContextManager[WebSubPendingStore]:
        """The WebSub topics whose hub ping is still owed."""
        raise self._missing("WebSub pending list")

    def scheduler_lock(self, failover: timedelta) -> Any:
        """Who may fire jobs (:class:`protocols.SchedulerLock`); ``failover``: standby takeover."""
        raise self._missing("scheduler lock")

    def _missing(self, store: str) -> NotImplementedError:
        return NotImplementedError(f"the {store} store is not implemented for the {self.name} backend yet")


class SQLiteBackend(Backend):
    """``state.sqlite3`` in ``[site] state_dir``: the embedded default, one machine."""

    name = "sqlite"

    def connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return closing(statedb.connect(self.config.state_dir))

    def schema_versions(self) -> dict[str, int]:
        with self.connection() as conn:
            return {row[0]: row[1] for row in conn.execute("SELECT component, version FROM schema_versions")}

    def apply_migrations(self, component: str, scripts: Sequence[str]) -> tuple[int, int]:
        with self.connection() as conn:
            return statedb.ensure_schema(conn, component, scripts)

    def start(self) -> None:
        # Embedded: each store upgrades its own tables when it opens them, as the state folder
        # always did; what must be refused at once is a schema from a newer goal17.
        migrations.check(self, allow_older=True)

    def prepare(self, component: str) -> None:
        self.apply_migrations(component, migrations.component(component).scripts(self.name) or ())

    def subscribers(self) -> AbstractContextManager[SubscriberStore]:
        from pipeline.stores.sqlite.subscribers import SQLiteSubscriberStore

        return SQLiteSubscriberStore.open(self.config.state_dir)

    @contextmanager
    def issues(self) -> Iterator[IssueStore]:
        from pipeline.stores.sqlite.issues import SQLiteIssueStore

        with self.connection() as conn:
            yield SQLiteIssueStore(conn)

    def websub_pending(self) -> AbstractContextManager[WebSubPendingStore]:
        from pipeline.stores.sqlite.websub_pending import FileWebSubPending

        return FileWebSubPending(self.config.state_dir)

    @contextmanager
    def send_log(self) -> Iterator[Any]:
        from pipeline.stores.sqlite.send_log import SqliteSendLog

        with self.connection() as conn:
            yield SqliteSendLog(conn, self.config.state_dir / "send.lock")

    def run_history(self) -> Any:
        from pipeline.stores.sqlite.history import SQLiteRunHistory

        return SQLiteRunHistory(self.config.state_dir)

    def rate_limits(self, web: WebConfig) -> RateLimits:
        from pipeline.stores.sqlite.rate_limits import SQLiteRateLimits

        return SQLiteRateLimits(
            self.config.state_dir,
            per_client_per_hour=web.per_client_per_hour,
            per_address_per_day=web.per_address_per_day,
        )

    def scheduler_lock(self, failover: timedelta) -> Any:
        from pipeline.schedule.lock import InstanceLock

        return InstanceLock(self.config.state_dir)  # one machine: today's flock, no standby


class PostgresBackend(Backend):
    """A PostgreSQL database shared by every instance (``GOAL17_DATABASE_URL``)."""

    name = "postgresql"

    def connection(self) -> AbstractContextManager[Any]:
        from pipeline.stores.postgres import connection

        return connection(self.config.database_url)

    def schema_versions(self) -> dict[str, int]:
        with self.connection() as conn:
            exists = conn.execute("SELECT to_regclass('schema_versions') IS NOT NULL").fetchone()[0]
            if not exists:
                return {}
            return dict(conn.execute("SELECT component, version FROM schema_versions").fetchall())

    def apply_migrations(self, component: str, scripts: Sequence[str]) -> tuple[int, int]:
        with self.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE component = %s", (component,)
            ).fetchone()
            applied = row[0] if row else 0
            if applied > len(scripts):
                raise migrations.newer_error(component, applied, len(scripts))
            for script in scripts[applied:]:
                conn.execute(script)  # no parameters: psycopg sends the script as one simple query
            if len(scripts) > applied:
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (%s, %s) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (component, len(scripts)),
                )
            return applied, max(applied, len(scripts))

    def subscribers(self) -> AbstractContextManager[SubscriberStore]:
        from pipeline.stores.postgres.subscribers import PostgresSubscriberStore

        return PostgresSubscriberStore(self.config.database_url)

    def issues(self) -> AbstractContextManager[IssueStore]:
        from pipeline.stores.postgres.issues import PostgresIssueStore

        return PostgresIssueStore(self.config.database_url)

    def websub_pending(self) -> AbstractContextManager[WebSubPendingStore]:
        from pipeline.stores.postgres.websub_pending import PostgresWebSubPending

        return PostgresWebSubPending(self.config.database_url)

    @contextmanager
    def send_log(self) -> Iterator[Any]:
        from pipeline.stores.postgres.send_log import PostgresSendLog

        with self.connection() as conn:
            yield PostgresSendLog(conn, self.config.database_url, lease=self.config.send_lease)

    def run_history(self) -> Any:
        from pipeline.stores.postgres.history import PostgresRunHistory

        return PostgresRunHistory(self.config.database_url)

    def rate_limits(self, web: WebConfig) -> RateLimits:
        from pipeline.stores.postgres.rate_limits import PostgresRateLimits

        return PostgresRateLimits(
            self.config.database_url,
            per_client_per_hour=web.per_client_per_hour,
            per_address_per_day=web.per_address_per_day,
        )

    def scheduler_lock(self, failover: timedelta) -> Any:
        from pipeline.schedule.failover import AdvisoryLock

        return AdvisoryLock(self.config.database_url, failover)


# The registry: backend name (StateConfig.backend) → class. A new engine is one line here.
BACKENDS: dict[str, type[Backend]] = {
    "sqlite": SQLiteBackend,
    "postgresql": PostgresBackend,
}

_opened: dict[tuple[int, StateConfig], Backend] = {}
_guard = threading.Lock()


def backend_for(config: StateConfig) -> Backend:
    """A backend object for ``config`` without any start-up check (``db migrate``/``status``/``copy``)."""
    return BACKENDS[config.backend](config)


def open_backend(settings: Settings) -> Backend:
    """The process's backend for these settings, checked once (``SchemaError`` if it does not fit).

    Cached per process (a forked worker makes its own) and per ``[state]``, so a test or a command
    that switches settings gets the other database.
    """
    config = settings.state
    key = (os.getpid(), config)
    with _guard:
        found = _opened.get(key)
        if found is None:
            found = backend_for(config)
            found.start()
            _opened[key] = found
        return found


def forget_backends() -> None:
    """Drop the cached backends (tests that recreate a database under the same settings)."""
    with _guard:
        _opened.clear()


__all__ = [
    "BACKENDS",
    "Backend",
    "PostgresBackend",
    "SQLiteBackend",
    "backend_for",
    "forget_backends",
    "open_backend",
]
