"""The send log's statements that are the same on SQLite and PostgreSQL, written once.

What differs stays in each backend's class and is the only thing there: how rows are queued
(PostgreSQL's ``ON CONFLICT DO NOTHING`` for senders starting one issue together) and claimed
(SQLite's one sender vs ``FOR UPDATE SKIP LOCKED`` under a lease), the run lock or heartbeat, and
the pacer. An outcome recorded here also clears what the backend keeps beside the history
(:attr:`SendLogRules.RECORD_CLEARS`: PostgreSQL's lease), whoever holds the row now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from pipeline.delivery.send_log import NO_LONGER_SUBSCRIBED, Claim
from pipeline.stores.sql.access import SqlAccess
from pipeline.stores.subscribers import timestamp


class SendLogRules(SqlAccess):
    """One row's outcome and the reports; a backend's class adds queueing, claiming and its access."""

    RECORD_CLEARS: ClassVar[str] = ""  # extra ``, column = NULL`` assignments of every outcome

    def claim(
        self,
        issue: int,
        transport: str,
        due_until: str,
        retries_only: bool,
        at: str,
        *,
        after: int = 0,
        limit: int = 1,
        again: bool = False,
    ) -> list[Claim]:
        """Claim the next due rows (the backend's :meth:`_claim` holds the one way it may)."""
        due = {"issue": issue, "transport": transport, "due": due_until, "retries_only": retries_only}
        return self._claim({**due, "again": again, "after": after, "limit": limit}, at)

    def _claim(self, params: dict[str, Any], at: str) -> list[Claim]:
        raise NotImplementedError

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._transaction():
            return self._run(sql, params)

    def skip_inactive(self, issue: int, at: str) -> int:
        return self._write(
            "UPDATE newsletter_sends SET status = 'skipped', next_attempt_at = NULL, last_error = ?, "
            f"claimed_at = ?{self.RECORD_CLEARS} "
            "WHERE issue = ? AND status IN ('queued', 'claimed', 'temporary') AND subscriber_id IN "
            "(SELECT id FROM subscribers WHERE status <> 'active')",
            (NO_LONGER_SUBSCRIBED, at, issue),
        )

    def attempts(self, issue: int, subscriber_id: int) -> tuple[int, int]:
        row = self._one(
            "SELECT attempts, ambiguous FROM newsletter_sends WHERE issue = ? AND subscriber_id = ?",
            (issue, subscriber_id),
        )
        assert row is not None, (issue, subscriber_id)
        return int(row["attempts"]), int(row["ambiguous"])

    def _record(self, issue: int, subscriber_id: int, sql: str, params: tuple) -> None:
        self._write(
            f"UPDATE newsletter_sends SET {sql}{self.RECORD_CLEARS} WHERE issue = ? AND subscriber_id = ?",
            (*params, issue, subscriber_id),
        )

    def set_message_id(self, issue: int, subscriber_id: int, msgid: str) -> None:
        self._write(
            "UPDATE newsletter_sends SET message_id = ? WHERE issue = ? AND subscriber_id = ?",
            (msgid, issue, subscriber_id),
        )

    def mark_sent(self, issue: int, subscriber_id: int, at: str) -> None:
        self._record(
            issue,
            subscriber_id,
            "status = 'sent', attempts = attempts + 1, sent_at = ?, next_attempt_at = NULL, last_error = NULL",
            (at,),
        )

    def mark_temporary(
        self, issue: int, subscriber_id: int, attempts: int, ambiguous: int, retry_at: str, error: str
    ) -> None:
        self._record(
            issue,
            subscriber_id,
            "status = 'temporary', attempts = ?, ambiguous = ?, next_attempt_at = ?, last_error = ?",
            (attempts, ambiguous, retry_at, error),
        )

    def mark_permanent(
        self,
        issue: int,
        subscriber_id: int,
        error: str,
        attempts: int | None = None,
        ambiguous: int | None = None,
    ) -> None:
        if attempts is None:
            sql, params = "attempts = attempts + 1, next_attempt_at = NULL, last_error = ?", (error,)
        else:
            sql = "attempts = ?, ambiguous = ?, next_attempt_at = NULL, last_error = ?"
            params = (attempts, ambiguous, error)
        self._record(issue, subscriber_id, "status = 'permanent', " + sql, params)

    def mark_skipped(self, issue: int, subscriber_id: int, why: str) -> None:
        self._record(issue, subscriber_id, "status = 'skipped', last_error = ?", (why,))

    def issues_with_work(self, now: datetime, transport: str | None) -> list[int]:
        sql = (
            "SELECT DISTINCT n.issue FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id "
            "WHERE s.status = 'active' AND (n.status IN ('queued', 'claimed') OR (n.status = 'temporary' AND "
            "(n.next_attempt_at IS NULL OR n.next_attempt_at <= ?)))"
        )
        params: tuple = (timestamp(now),)
        if transport is not None:
            sql += " AND n.transport = ?"
            params += (transport,)
        return [int(row["issue"]) for row in self._all(sql + " ORDER BY n.issue", params)]

    def pending(self, transport: str) -> int:
        row = self._one(
            "SELECT COUNT(*) AS total FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id "
            "WHERE s.status = 'active' AND n.status IN ('queued', 'claimed', 'temporary') AND n.transport = ?",
            (transport,),
        )
        return int(row["total"]) if row else 0

    def totals(self, issue: int) -> dict[str, int]:
        rows = self._all(
            "SELECT status, COUNT(*) AS total FROM newsletter_sends WHERE issue = ? GROUP BY status", (issue,)
        )
        return {row["status"]: int(row["total"]) for row in rows}

    def rows(self, issue: int) -> list[dict]:
        rows = self._all(
            "SELECT s.email, n.status, n.attempts, n.ambiguous, n.message_id, n.transport, n.sent_at, "
            "n.next_attempt_at, n.last_error "
            "FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id WHERE n.issue = ? ORDER BY s.id",
            (issue,),
        )
        return [dict(row) for row in rows]


__all__ = ["SendLogRules"]
