"""The send log in SQLite (``newsletter_sends`` in the state database): one sender per state folder.

SQLite is the embedded default: one machine, one ``send`` at a time (:class:`SendLock`, a
``flock`` the kernel drops even on SIGKILL), and a row is claimed just before its message goes out
(``batch = 1``), so a killed run leaves at most one ``claimed`` row — the one that may have arrived.
The rules these rows follow are in :mod:`pipeline.delivery.send_log`; the statements both backends
share are in ``stores/sql/send_log.py``, and the PostgreSQL twin of what differs (queueing,
claiming) is ``stores/postgres/send_log.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pipeline.config.mail import NewsletterConfig
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import message_id
from pipeline.delivery.send_errors import SendBusy
from pipeline.delivery.send_log import (
    COLUMNS,
    Claim,
    Overview,
    Pacer,
    overview_of,
)
from pipeline.delivery.transports import MessagePacer
from pipeline.stores import statedb
from pipeline.stores.locks import FileLock, LockBusy
from pipeline.stores.sql.send_log import SendLogRules
from pipeline.stores.sqlite.access import SQLiteAccess
from pipeline.stores.subscribers import Subscriber

MIGRATIONS = [
    """
    CREATE TABLE newsletter_sends (
        issue INTEGER NOT NULL REFERENCES newsletter_issues (number),
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'temporary', 'permanent')),
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL,
        transport TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        sent_at TEXT,
        next_attempt_at TEXT,
        last_error TEXT,
        PRIMARY KEY (issue, subscriber_id)
    );
    CREATE INDEX newsletter_sends_status ON newsletter_sends (issue, status);
    """,
    # queued: owed a copy since the issue's send started; skipped: no longer active (or nothing for
    # their targets) when their turn came; ambiguous: how often the data went out without a reply.
    """
    CREATE TABLE newsletter_sends_v2 (
        issue INTEGER NOT NULL REFERENCES newsletter_issues (number),
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'claimed', 'sent', 'temporary', 'permanent', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        ambiguous INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL,
        transport TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        sent_at TEXT,
        next_attempt_at TEXT,
        last_error TEXT,
        PRIMARY KEY (issue, subscriber_id)
    );
    INSERT INTO newsletter_sends_v2 (issue, subscriber_id, status, attempts, message_id, transport,
        claimed_at, sent_at, next_attempt_at, last_error)
        SELECT issue, subscriber_id, status, attempts, message_id, transport, claimed_at, sent_at,
        next_attempt_at, last_error FROM newsletter_sends;
    DROP TABLE newsletter_sends;
    ALTER TABLE newsletter_sends_v2 RENAME TO newsletter_sends;
    CREATE INDEX newsletter_sends_status ON newsletter_sends (issue, status);
    """,
]

# The rows a run may claim: active reader, owed a copy (or skipped earlier, on a full send), a
# retry that is due, and for an outbox rehearsal only rows that are the outbox's own.
DUE = (
    "n.issue = :issue AND s.status = 'active' "
    "AND (n.status IN ('queued', 'claimed', 'temporary') OR (n.status = 'skipped' AND NOT :retries_only AND NOT :again)) "
    "AND NOT (n.status = 'temporary' AND n.next_attempt_at IS NOT NULL AND n.next_attempt_at > :due) "
    "AND (:transport <> 'outbox' OR n.transport = 'outbox')"
)


class SendLock:
    """One ``send`` per state folder (:class:`~pipeline.stores.locks.FileLock`, refusing at once)."""

    def __init__(self, path: Path):
        self.lock = FileLock(path)

    def __enter__(self) -> SendLock:
        try:
            self.lock.acquire()
        except LockBusy as busy:
            holder = busy.pid or "?"
            raise SendBusy(f"another send is already running (pid {holder}); nothing sent") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class SqliteSendLog(SQLiteAccess, SendLogRules):
    """The send log on one SQLite connection (the state database's, shared with the other stores)."""

    exclusive = True
    batch = 1

    def __init__(self, conn: sqlite3.Connection, lock_file: Path | None = None):
        super().__init__(conn)
        self.lock_file = lock_file
        statedb.ensure_schema(conn, "newsletter_delivery", MIGRATIONS)

    def running(self) -> AbstractContextManager[object]:
        if self.lock_file is None:
            raise ValueError("this send log was opened for reading (no lock file): it cannot send")
        return SendLock(self.lock_file)

    def queue(
        self, issue: Issue, subscribers: list[Subscriber], config: NewsletterConfig, transport: str, at: str
    ) -> tuple[int, int]:
        conn = self.conn
        with statedb.transaction(conn):
            converted = 0
            if transport != "outbox":
                converted = conn.execute(
                    "UPDATE newsletter_sends SET status = 'queued', transport = ?, attempts = 0, ambiguous = 0, "
                    "claimed_at = ?, sent_at = NULL, next_attempt_at = NULL, last_error = NULL "
                    "WHERE issue = ? AND transport = 'outbox' AND subscriber_id IN "
                    "(SELECT id FROM subscribers WHERE status = 'active')",
                    (transport, at, issue.number),
                ).rowcount
            have = {
                row[0]
                for row in conn.execute(
                    "SELECT subscriber_id FROM newsletter_sends WHERE issue = ?", (issue.number,)
                )
            }
            rows = [
                (issue.number, s.id, message_id(issue.number, s.uid, config), transport, at)
                for s in subscribers
                if s.id not in have and (issue.for_targets(s.targets) or not issue.items)
            ]
            conn.executemany(
                "INSERT INTO newsletter_sends (issue, subscriber_id, status, message_id, transport, claimed_at) "
                "SELECT ?, ?, 'queued', ?, ?, ? FROM subscribers WHERE id = ? AND status = 'active'",
                [(*row, row[1]) for row in rows],
            )
        return len(rows), converted

    def overview(self, issue: int, transport: str, due_until: str, retries_only: bool) -> Overview:
        rows = self.conn.execute(
            "SELECT n.status, n.next_attempt_at, n.transport FROM subscribers s "
            "LEFT JOIN newsletter_sends n ON n.issue = ? AND n.subscriber_id = s.id WHERE s.status = 'active'",
            (issue,),
        ).fetchall()
        return overview_of([(*row, False) for row in rows], transport, due_until, retries_only)

    def _claim(self, params: dict[str, Any], at: str) -> list[Claim]:
        """Claim the next due rows in one transaction (the reader's status is checked in it)."""
        conn, issue, transport = self.conn, params["issue"], params["transport"]
        with statedb.transaction(conn):
            found = conn.execute(
                f"SELECT n.subscriber_id, {', '.join('n.' + c for c in COLUMNS)} FROM newsletter_sends n "
                f"JOIN subscribers s ON s.id = n.subscriber_id WHERE {DUE} AND n.subscriber_id > :after "
                "ORDER BY n.subscriber_id LIMIT :limit",
                params,
            ).fetchall()
            claims = []
            for row in found:
                before = {c: row[c] for c in COLUMNS}
                same = before["transport"] == transport
                conn.execute(
                    "UPDATE newsletter_sends SET status = 'claimed', claimed_at = ?, transport = ?, "
                    "attempts = ?, ambiguous = ?, sent_at = NULL, "
                    "next_attempt_at = NULL, last_error = NULL WHERE issue = ? AND subscriber_id = ?",
                    (
                        at,
                        transport,
                        before["attempts"] if same else 0,
                        before["ambiguous"] if same else 0,
                        issue,
                        row["subscriber_id"],
                    ),
                )
                claims.append(Claim(row["subscriber_id"], before))
        return claims

    def release(self, issue: int, claims: Sequence[Claim]) -> None:
        with statedb.transaction(self.conn):
            for claim in claims:
                self.conn.execute(
                    f"UPDATE newsletter_sends SET {', '.join(f'{c} = ?' for c in COLUMNS)} "
                    "WHERE issue = ? AND subscriber_id = ?",
                    (*(claim.before[c] for c in COLUMNS), issue, claim.subscriber_id),
                )

    def held_elsewhere(self, issue: int) -> int:
        return 0  # one sender per state folder: nobody else can hold a row

    def pacer(self, rate: float) -> Pacer:
        """One sender at a time: the rate is this process's own."""
        return MessagePacer(rate)


__all__ = ["MIGRATIONS", "SendLock", "SqliteSendLog"]
