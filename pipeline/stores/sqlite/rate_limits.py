"""The web service's limits on one machine: per client in memory, per address in the state database.

Today's behaviour, moved behind :class:`~pipeline.stores.protocols.RateLimits`: the per-client limit
only needs to hold within one running service (a restart forgetting it costs nothing), so it stays
in process memory (:class:`pipeline.web.ratelimit.RateLimiter`); the per-address limit protects
people's mailboxes, so it is kept in ``web_mails``, where a restart cannot reset it. Only a hash of
the address is kept, and rows older than a day are deleted as new ones come in.

The PostgreSQL twin (:mod:`pipeline.stores.postgres.rate_limits`) shares both limits between
instances.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.stores import statedb
from pipeline.stores.subscribers import email_hash, timestamp
from pipeline.web.ratelimit import RateLimiter

COMPONENT = "web"
MIGRATIONS = [
    """
    CREATE TABLE web_mails (
        id INTEGER PRIMARY KEY,
        email_hash TEXT NOT NULL,
        sent_at TEXT NOT NULL
    );
    CREATE INDEX web_mails_address ON web_mails (email_hash, sent_at);
    CREATE INDEX web_mails_time ON web_mails (sent_at);
    """,
]
CLIENT_WINDOW = 3600.0  # seconds: [web] per_client_per_hour


class SQLiteRateLimits:
    """:class:`~pipeline.stores.protocols.RateLimits` for one machine.

    The connection is opened by the first thread that takes a mail quota (the web service's
    database thread) and used only there, as SQLite connections must be.
    """

    def __init__(self, state_dir: str | Path, *, per_client_per_hour: int, per_address_per_day: int):
        self.state_dir = Path(state_dir)
        self.per_address_per_day = per_address_per_day
        self.clients = RateLimiter(per_client_per_hour, CLIENT_WINDOW)
        self._conn: sqlite3.Connection | None = None

    def client_hit(self, client: str) -> int | None:
        """Count one sign-up request of ``client``: None if allowed, else seconds to wait."""
        if self.clients.hit(client):
            return None
        return self.clients.retry_after(client)

    def take_mail(self, address: str, now: datetime) -> bool:
        """Count one confirmation mail to ``address`` if it had fewer than the daily limit."""
        if self._conn is None:
            self._conn = statedb.connect(self.state_dir)
            statedb.ensure_schema(self._conn, COMPONENT, MIGRATIONS)
        conn = self._conn
        key = email_hash(address)
        cutoff = timestamp(now - timedelta(days=1))
        with statedb.transaction(conn):
            conn.execute("DELETE FROM web_mails WHERE sent_at <= ?", (cutoff,))
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM web_mails WHERE email_hash = ? AND sent_at > ?", (key, cutoff)
            ).fetchone()
            allowed = count < self.per_address_per_day
            if allowed:
                conn.execute(
                    "INSERT INTO web_mails (email_hash, sent_at) VALUES (?, ?)", (key, timestamp(now))
                )
        return allowed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


__all__ = ["COMPONENT", "MIGRATIONS", "SQLiteRateLimits"]
