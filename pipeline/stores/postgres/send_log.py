"""The send log in PostgreSQL: any number of senders on one issue, on any machines, exactly once.

The SQLite twin (``stores/sqlite/send_log.py``) has one sender per state folder; the statements
both share (outcomes, reports) are in ``stores/sql/send_log.py``. Here each sender
claims due rows in batches with ``SELECT … FOR UPDATE SKIP LOCKED`` — two senders never wait for
nor take the same row — and marks them ``claimed`` by itself (``claimed_by``) under a lease
(``lease_until``, the database's clock, so machines' clocks need not agree). A heartbeat thread
renews the lease every third of its length while the process lives; a sender SIGKILLed or a
machine lost stops renewing, and once the lease has run out its rows are claimable again and
another sender takes them over: a row claimed and found again may have been sent, so it is sent
once more with the same Message-ID — at most one extra copy per dead sender, never none.

``[smtp] rate`` is shared: one row per channel in ``newsletter_send_pacing`` holds the next free
send slot, advanced by one interval in a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so
N senders at rate 20 send 20 messages a second between them, not 20·N.

Lease and pacing columns use the database's own clock and types (``timestamptz``, epoch seconds):
they are coordination, not history, and ``db copy`` does not carry them. The history columns stay
ISO-8601 UTC text, as in SQLite.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pipeline.config.mail import NewsletterConfig
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import message_id
from pipeline.delivery.send_log import COLUMNS, Claim, Overview, Pacer, overview_of
from pipeline.stores.postgres import connection
from pipeline.stores.postgres.access import PostgresAccess
from pipeline.stores.sql.send_log import SendLogRules
from pipeline.stores.subscribers import Subscriber

MIGRATIONS = [
    """
    CREATE TABLE newsletter_sends (
        issue BIGINT NOT NULL REFERENCES newsletter_issues (number),
        subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'claimed', 'sent', 'temporary', 'permanent', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        ambiguous INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL,
        transport TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        sent_at TEXT,
        next_attempt_at TEXT,
        last_error TEXT,
        claimed_by TEXT,
        lease_until TIMESTAMPTZ,
        PRIMARY KEY (issue, subscriber_id)
    );
    CREATE INDEX newsletter_sends_status ON newsletter_sends (issue, status);
    CREATE INDEX newsletter_sends_claimed_by ON newsletter_sends (claimed_by) WHERE status = 'claimed';
    CREATE TABLE newsletter_send_pacing (
        channel TEXT PRIMARY KEY,
        next_slot DOUBLE PRECISION NOT NULL
    );
    """,
]

LEASE = 30.0  # seconds; [state] send_lease
BATCH = 50
LIVE = "n.status = 'claimed' AND n.lease_until IS NOT NULL AND n.lease_until > clock_timestamp()"
# The same rows as SQLite's DUE, minus rows a live sender holds.
DUE = (
    "n.issue = %(issue)s AND s.status = 'active' "
    "AND (n.status IN ('queued', 'claimed', 'temporary') "
    "OR (n.status = 'skipped' AND NOT %(retries_only)s AND NOT %(again)s)) "
    "AND NOT (n.status = 'temporary' AND n.next_attempt_at IS NOT NULL AND n.next_attempt_at > %(due)s) "
    "AND (%(transport)s <> 'outbox' OR n.transport = 'outbox') "
    f"AND NOT ({LIVE})"
)
KEPT = (*COLUMNS, "claimed_by", "lease_until")  # what a release puts back
log = logging.getLogger(__name__)


def sender_name() -> str:
    """Who claims: host, PID and a random part (a PID is reused; a host name may be too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PostgresSendLog(PostgresAccess, SendLogRules):
    """The send log on one pooled connection; ``url`` opens the heartbeat's and the pacer's own."""

    exclusive = False
    RECORD_CLEARS = ", lease_until = NULL"  # whoever holds the row now, the outcome is what happened

    def __init__(self, conn: Any, url: str, *, lease: float = LEASE, batch: int = BATCH):
        super().__init__(url, conn=conn)
        self.conn, self.lease, self.batch = conn, float(lease), batch
        self.me = sender_name()

    # -- a run ----------------------------------------------------------------------------------

    def running(self) -> AbstractContextManager[object]:
        return self._heartbeat()

    @contextmanager
    def _heartbeat(self) -> Iterator[None]:
        """Renew this sender's lease every third of it, on a connection of its own, while the run lasts."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease / 3):
                try:
                    with connection(self.url) as conn:
                        conn.execute(
                            "UPDATE newsletter_sends SET lease_until = clock_timestamp() + make_interval(secs => %s) "
                            "WHERE claimed_by = %s AND status = 'claimed'",
                            (self.lease, self.me),
                        )
                except Exception as exc:  # the next beat tries again; the lease covers a missed one
                    log.warning("send lease not renewed: %s", exc)

        thread = threading.Thread(target=beat, name="goal17-send-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=10)

    def queue(
        self, issue: Issue, subscribers: list[Subscriber], config: NewsletterConfig, transport: str, at: str
    ) -> tuple[int, int]:
        conn = self.conn
        with conn.transaction():
            converted = 0
            if transport != "outbox":
                converted = conn.execute(
                    "UPDATE newsletter_sends SET status = 'queued', transport = %s, attempts = 0, ambiguous = 0, "
                    "claimed_at = %s, sent_at = NULL, next_attempt_at = NULL, last_error = NULL, "
                    "claimed_by = NULL, lease_until = NULL "
                    "WHERE issue = %s AND transport = 'outbox' AND subscriber_id IN "
                    "(SELECT id FROM subscribers WHERE status = 'active')",
                    (transport, at, issue.number),
                ).rowcount
            have = {
                row[0]
                for row in conn.execute(
                    "SELECT subscriber_id FROM newsletter_sends WHERE issue = %s", (issue.number,)
                ).fetchall()
            }
            owed = [
                s
                for s in subscribers
                if s.id not in have and (issue.for_targets(s.targets) or not issue.items)
            ]
            # Several senders may start the same issue at once: the first one's rows stand.
            added = conn.execute(
                "INSERT INTO newsletter_sends (issue, subscriber_id, status, message_id, transport, claimed_at) "
                "SELECT %s, v.id, 'queued', v.msgid, %s, %s FROM unnest(%s::bigint[], %s::text[]) AS v (id, msgid) "
                "JOIN subscribers s ON s.id = v.id AND s.status = 'active' "
                "ORDER BY v.id ON CONFLICT (issue, subscriber_id) DO NOTHING",
                (
                    issue.number,
                    transport,
                    at,
                    [s.id for s in owed],
                    [message_id(issue.number, s.uid, config) for s in owed],
                ),
            ).rowcount
        return added, converted

    def overview(self, issue: int, transport: str, due_until: str, retries_only: bool) -> Overview:
        rows = self.conn.execute(
            f"SELECT n.status, n.next_attempt_at, n.transport, COALESCE({LIVE}, false) FROM subscribers s "
            "LEFT JOIN newsletter_sends n ON n.issue = %s AND n.subscriber_id = s.id WHERE s.status = 'active'",
            (issue,),
        ).fetchall()
        return overview_of(rows, transport, due_until, retries_only)

    def _claim(self, params: dict[str, Any], at: str) -> list[Claim]:
        """Claim up to ``limit`` due rows no other sender holds, in one statement."""
        params = {**params, "at": at, "me": self.me, "lease": self.lease}
        kept = ", ".join(f"n.{c}" for c in KEPT)
        with self.conn.transaction():
            found = self.conn.execute(
                "WITH picked AS ("
                f" SELECT n.issue, n.subscriber_id, {kept} FROM newsletter_sends n"
                f" JOIN subscribers s ON s.id = n.subscriber_id WHERE {DUE} AND n.subscriber_id > %(after)s"
                " ORDER BY n.subscriber_id LIMIT %(limit)s FOR UPDATE OF n SKIP LOCKED) "
                "UPDATE newsletter_sends n SET status = 'claimed', claimed_at = %(at)s, transport = %(transport)s, "
                "attempts = CASE WHEN picked.transport = %(transport)s THEN picked.attempts ELSE 0 END, "
                "ambiguous = CASE WHEN picked.transport = %(transport)s THEN picked.ambiguous ELSE 0 END, "
                "sent_at = NULL, next_attempt_at = NULL, last_error = NULL, claimed_by = %(me)s, "
                "lease_until = clock_timestamp() + make_interval(secs => %(lease)s) "
                "FROM picked WHERE n.issue = picked.issue AND n.subscriber_id = picked.subscriber_id "
                f"RETURNING picked.subscriber_id, {', '.join(f'picked.{c}' for c in KEPT)}",
                params,
            ).fetchall()
        claims = [Claim(row[0], dict(zip(KEPT, row[1:], strict=True))) for row in found]
        return sorted(claims, key=lambda claim: claim.subscriber_id)

    def release(self, issue: int, claims: Sequence[Claim]) -> None:
        if not claims:
            return
        with self.conn.transaction():
            for claim in claims:
                self.conn.execute(
                    f"UPDATE newsletter_sends SET {', '.join(f'{c} = %s' for c in KEPT)} "
                    "WHERE issue = %s AND subscriber_id = %s AND claimed_by = %s AND status = 'claimed'",
                    (*(claim.before[c] for c in KEPT), issue, claim.subscriber_id, self.me),
                )

    def held_elsewhere(self, issue: int) -> int:
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM newsletter_sends n WHERE n.issue = %s AND {LIVE} AND n.claimed_by <> %s",
            (issue, self.me),
        ).fetchone()
        return int(row[0])

    def pacer(self, rate: float) -> Pacer:
        return SharedPacer(self.url, rate)


class SharedPacer:
    """``[smtp] rate`` for every sender of this database together: one slot per message, in turn."""

    def __init__(self, url: str, rate: float, channel: str = "smtp"):
        self.url, self.channel = url, channel
        self.interval = 1.0 / rate if rate > 0 else 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        with connection(self.url) as conn:
            # The next free slot (never in the past), moved on by one interval, in one statement:
            # the row lock makes concurrent senders take consecutive slots.
            row = conn.execute(
                "INSERT INTO newsletter_send_pacing AS p (channel, next_slot) "
                "VALUES (%(channel)s, extract(epoch FROM clock_timestamp()) + %(interval)s) "
                "ON CONFLICT (channel) DO UPDATE SET next_slot = "
                "GREATEST(p.next_slot, extract(epoch FROM clock_timestamp())) + %(interval)s "
                "RETURNING next_slot - %(interval)s - extract(epoch FROM clock_timestamp())",
                {"channel": self.channel, "interval": self.interval},
            ).fetchone()
        delay = float(row[0])
        if delay > 0:
            time.sleep(delay)


__all__ = ["LEASE", "MIGRATIONS", "PostgresSendLog", "SharedPacer", "sender_name"]
