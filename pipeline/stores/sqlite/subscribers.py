"""The subscriber list in SQLite: today's tables, upgraded in place when the store opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.stores import statedb
from pipeline.stores.sql.subscribers import SubscriberRules
from pipeline.stores.sqlite.access import SQLiteAccess

COMPONENT = "subscribers"

# Never edit an applied script; append a new one (and its PostgreSQL twin).
MIGRATIONS = [
    """
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        lang TEXT NOT NULL CHECK (lang IN ('sv', 'en')),
        targets TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT,
        consent_source TEXT NOT NULL CHECK (consent_source IN ('form', 'import', 'api', 'cli')),
        consent_at TEXT NOT NULL,
        consent_page TEXT
    );
    CREATE INDEX subscribers_status ON subscribers (status, id);
    CREATE TABLE subscriber_consent (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        source TEXT NOT NULL,
        page TEXT,
        at TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX subscriber_consent_subscriber ON subscriber_consent (subscriber_id, id);
    CREATE TABLE subscriber_suppressions (
        email_hash TEXT PRIMARY KEY,
        erased_at TEXT NOT NULL
    );
    """,
]


class SQLiteSubscriberStore(SQLiteAccess, SubscriberRules):
    """The subscriber list in one state database; open with :meth:`open` or wrap a connection."""

    def __init__(self, conn: sqlite3.Connection):
        super().__init__(conn)
        statedb.ensure_schema(conn, COMPONENT, MIGRATIONS)

    @classmethod
    def open(cls, state_dir: str | Path) -> SQLiteSubscriberStore:
        return cls(statedb.connect(state_dir))

    def __enter__(self) -> SQLiteSubscriberStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["MIGRATIONS", "SQLiteSubscriberStore"]
