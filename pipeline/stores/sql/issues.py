"""The issue store's rules, in SQL that SQLite and PostgreSQL both accept.

Creating an issue is one transaction that also runs the caller's checks (render, size), so a failed
build never uses up an issue number. Two builds at once must not both plan number N: SQLite's
``BEGIN IMMEDIATE`` already queues them; PostgreSQL's class takes an advisory lock first
(:meth:`IssueRules._serialise`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from pipeline.delivery.issues import Issue, IssueItem, parse_time, plan_issue
from pipeline.reading.model import Update
from pipeline.stores.sql.access import Row, SqlAccess
from pipeline.stores.subscribers import timestamp

# Version 1 of both backends' tables: the same SQL (the number is the planner's, not a sequence).
# Never edit it; a change is a new script appended to each backend's list.
SCHEMA_V1 = """
    CREATE TABLE newsletter_issues (
        number INTEGER PRIMARY KEY,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        created_at TEXT NOT NULL,
        items TEXT NOT NULL
    );
    CREATE TABLE newsletter_issue_updates (
        update_id TEXT PRIMARY KEY,
        issue INTEGER NOT NULL REFERENCES newsletter_issues (number)
    );
    """


def from_row(row: Row | None) -> Issue | None:
    if row is None:
        return None
    return Issue(
        number=row["number"],
        window_start=parse_time(row["window_start"]),
        window_end=parse_time(row["window_end"]),
        created_at=parse_time(row["created_at"]),
        items=tuple(IssueItem.from_json(d) for d in json.loads(row["items"])),
    )


class IssueRules(SqlAccess):
    """Issues in the state database; a backend's class adds its access (and schema)."""

    def get(self, number: int) -> Issue | None:
        return from_row(self._one("SELECT * FROM newsletter_issues WHERE number = ?", (number,)))

    def latest(self) -> Issue | None:
        return from_row(self._one("SELECT * FROM newsletter_issues ORDER BY number DESC LIMIT 1"))

    def first(self) -> Issue | None:
        return from_row(self._one("SELECT * FROM newsletter_issues ORDER BY number LIMIT 1"))

    def all(self) -> list[Issue]:
        return [from_row(row) for row in self._all("SELECT * FROM newsletter_issues ORDER BY number")]

    def included(self) -> set[str]:
        """The id of every update already in an issue."""
        return {row["update_id"] for row in self._all("SELECT update_id FROM newsletter_issue_updates")}

    def plan(
        self,
        updates: Sequence[Update],
        now: datetime,
        *,
        since: datetime | None = None,
        first_issue_days: int = 30,
    ) -> Issue:
        """The next issue as it would be built at ``now`` (nothing is written)."""
        return plan_issue(
            updates,
            now,
            previous=self.latest(),
            first=self.first() if since is None else None,
            included=self.included(),
            since=since,
            first_issue_days=first_issue_days,
        )

    def create(
        self,
        updates: Sequence[Update],
        now: datetime,
        *,
        since: datetime | None = None,
        first_issue_days: int = 30,
        force: bool = False,
        check: Callable[[Issue], None] | None = None,
    ) -> Issue | None:
        """Record the next issue; ``None`` when there is nothing new (unless ``force``).

        ``check(issue)`` runs inside the transaction (render it, measure it); if it raises, nothing
        is recorded and the number stays free.
        """
        with self._transaction():
            self._serialise()
            issue = self.plan(updates, now, since=since, first_issue_days=first_issue_days)
            if not issue.items and not force:
                return None
            if check is not None:
                check(issue)
            self._run(
                "INSERT INTO newsletter_issues (number, window_start, window_end, created_at, items) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    issue.number,
                    timestamp(issue.window_start),
                    timestamp(issue.window_end),
                    timestamp(issue.created_at),
                    json.dumps([item.to_json() for item in issue.items], ensure_ascii=False),
                ),
            )
            if issue.items:
                self._run_many(
                    "INSERT INTO newsletter_issue_updates (update_id, issue) VALUES (?, ?)",
                    [(item.id, issue.number) for item in issue.items],
                )
        return self.get(issue.number)

    def _serialise(self) -> None:
        """Queue behind any other transaction creating an issue (a no-op where writers queue anyway)."""


__all__ = ["SCHEMA_V1", "IssueRules", "from_row"]
