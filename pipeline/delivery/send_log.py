"""The send log (``newsletter_sends``): every read and write of it, each one transaction.

One row per (issue, reader) — the primary key — with its status:

- ``queued``: owed a copy since the issue's send started (:func:`queue`);
- ``claimed``: being handed to the transport now; still ``claimed`` when a run starts, it was in
  flight when an earlier run died;
- ``sent``, ``temporary`` (retried after :func:`backoff`), ``permanent`` (with the reply, or why
  it was lost), ``skipped`` (no longer subscribed, or nothing for their targets, at their turn).

``ambiguous`` counts the outcomes where the data went out and no final reply came back: the
message is resent once, never twice. The rules that use these rows are in ``delivery``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from pipeline.config.mail import NewsletterConfig
from pipeline.delivery.issues import Issue, IssueStore
from pipeline.delivery.message import message_id
from pipeline.stores import statedb
from pipeline.stores.subscribers import Subscriber, SubscriberStore, timestamp

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

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
PENDING = ("queued", "claimed", "temporary")  # owed a copy, not yet done

COLUMNS = (
    "status",
    "attempts",
    "ambiguous",
    "message_id",
    "transport",
    "claimed_at",
    "sent_at",
    "next_attempt_at",
    "last_error",
)


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th temporary failure a message is due again."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def open_log(conn: sqlite3.Connection) -> None:
    """Create or upgrade the send log (and the tables it refers to) in this database."""
    SubscriberStore(conn)
    IssueStore(conn)
    statedb.ensure_schema(conn, "newsletter_delivery", MIGRATIONS)


def transaction(conn: sqlite3.Connection, work: Callable[[], object]) -> object:
    """``work()`` in one transaction: a kill leaves the rows before or after."""
    with statedb.transaction(conn):
        return work()


def queue(
    conn: sqlite3.Connection,
    issue: Issue,
    subscribers: list[Subscriber],
    config: NewsletterConfig,
    transport: str,
    at: str,
) -> tuple[int, int]:
    """Start (or extend) the issue's send: a ``queued`` row for every active reader owed a copy.

    For real mail, a reader whose copy only went to the outbox (a rehearsal) is owed one too: the
    row is queued for this transport. Returns (rows added, outbox rows queued for real).
    """

    def work() -> tuple[int, int]:
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

    return transaction(conn, work)  # type: ignore[return-value]


def snapshot(conn: sqlite3.Connection, issue: int, subscriber_id: int) -> dict | None:
    row = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM newsletter_sends WHERE issue = ? AND subscriber_id = ?",
        (issue, subscriber_id),
    ).fetchone()
    return dict(row) if row is not None else None


def restore(conn: sqlite3.Connection, issue: int, subscriber_id: int, before: dict | None) -> None:
    """Put a claimed row back exactly as it was: the run could not hand the message over."""

    def work() -> None:
        if before is None:
            conn.execute(
                "DELETE FROM newsletter_sends WHERE issue = ? AND subscriber_id = ?", (issue, subscriber_id)
            )
            return
        conn.execute(
            f"UPDATE newsletter_sends SET {', '.join(f'{c} = ?' for c in COLUMNS)} "
            "WHERE issue = ? AND subscriber_id = ?",
            (*(before[c] for c in COLUMNS), issue, subscriber_id),
        )

    transaction(conn, work)


def claim(
    conn: sqlite3.Connection, issue: int, subscriber_id: int, msgid: str, transport: str, at: str
) -> bool:
    """Claim the row if the subscriber is still active and the message is not sent or refused."""

    def work() -> bool:
        row = conn.execute("SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        if row is None or row[0] != "active":
            return False
        same = "newsletter_sends.transport = excluded.transport"
        # a rehearsal (outbox) never takes over a row owed by a real send; a real send takes over
        # any row that only went to the outbox
        cursor = conn.execute(
            "INSERT INTO newsletter_sends (issue, subscriber_id, status, message_id, transport, claimed_at) "
            "VALUES (?, ?, 'claimed', ?, ?, ?) "
            "ON CONFLICT (issue, subscriber_id) DO UPDATE SET status = 'claimed', claimed_at = excluded.claimed_at, "
            f"transport = excluded.transport, attempts = CASE WHEN {same} THEN newsletter_sends.attempts ELSE 0 END, "
            f"ambiguous = CASE WHEN {same} THEN newsletter_sends.ambiguous ELSE 0 END, "
            "message_id = excluded.message_id, sent_at = NULL, next_attempt_at = NULL, last_error = NULL "
            "WHERE (newsletter_sends.status IN ('queued', 'claimed', 'temporary', 'skipped') "
            f"AND ({same} OR excluded.transport <> 'outbox')) "
            "OR (newsletter_sends.transport = 'outbox' AND excluded.transport <> 'outbox')",
            (issue, subscriber_id, msgid, transport, at),
        )
        return cursor.rowcount == 1

    return bool(transaction(conn, work))


def record(conn: sqlite3.Connection, issue: int, subscriber_id: int, sql: str, params: tuple) -> None:
    transaction(
        conn,
        lambda: conn.execute(
            f"UPDATE newsletter_sends SET {sql} WHERE issue = ? AND subscriber_id = ?",
            (*params, issue, subscriber_id),
        ),
    )


def skip_inactive(conn: sqlite3.Connection, issue: int, at: str) -> int:
    """Rows owed to readers who are no longer active: ``skipped`` (never mail a former subscriber)."""
    cursor = transaction(
        conn,
        lambda: conn.execute(
            "UPDATE newsletter_sends SET status = 'skipped', next_attempt_at = NULL, "
            "last_error = 'no longer subscribed when their turn came', claimed_at = ? "
            "WHERE issue = ? AND status IN ('queued', 'claimed', 'temporary') AND subscriber_id IN "
            "(SELECT id FROM subscribers WHERE status <> 'active')",
            (at, issue),
        ),
    )
    return cursor.rowcount  # type: ignore[union-attr]


def issues_with_work(conn: sqlite3.Connection, now: datetime, transport: str | None) -> list[int]:
    """Issues whose log holds queued or claimed rows, or due retries (of ``transport``), oldest first."""
    sql = (
        "SELECT DISTINCT n.issue FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id "
        "WHERE s.status = 'active' AND (n.status IN ('queued', 'claimed') OR (n.status = 'temporary' AND "
        "(n.next_attempt_at IS NULL OR n.next_attempt_at <= ?)))"
    )
    params: tuple = (timestamp(now),)
    if transport is not None:
        sql += " AND n.transport = ?"
        params += (transport,)
    return [row[0] for row in conn.execute(sql + " ORDER BY n.issue", params).fetchall()]


def pending(conn: sqlite3.Connection, transport: str) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id "
        "WHERE s.status = 'active' AND n.status IN ('queued', 'claimed', 'temporary') AND n.transport = ?",
        (transport,),
    ).fetchone()
    return int(row[0])


def totals(conn: sqlite3.Connection, issue: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, COUNT(*) FROM newsletter_sends WHERE issue = ? GROUP BY status", (issue,)
    ).fetchall()
    return {row[0]: row[1] for row in rows}
