"""Newsletter issues: which updates go into the next issue, numbered and remembered in the state DB.

**Every update that becomes visible reaches exactly one issue.** The next issue takes every
visible update (published, not a draft, dated at or before ``now``) that is in no issue yet and
is dated after the *floor*: the start of the first issue's window (the first issue: the last
``first_issue_days`` days before it), or ``--since`` when given. It is not a pure date window:
an update kept as a draft over an issue and published later, or one whose ``date`` lies before
the previous issue, goes into the next issue all the same. Each update id is recorded with the
issue it went into under a primary key, so the same update can never be in two issues. The
choice depends only on the content and the recorded issues, so it is deterministic.

An issue still records a window (from the end of the previous one up to ``now``) for its
archive page; a ``now`` before the previous window's end is refused.

An issue stores a snapshot of what it shows (title, URL, date, targets, summary of each update), so
its archive and its messages can be rebuilt later exactly, even after the content folder changed.
Creating an issue is one transaction that also runs the caller's checks (render, size), so a failed
build never uses up an issue number.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.reading.model import Update
from pipeline.stores import statedb
from pipeline.stores.subscribers import timestamp

MIGRATIONS = [
    """
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
    """,
]


class IssueError(Exception):
    """The issue cannot be built as asked (e.g. ``--now`` before the previous issue's window)."""


@dataclass(frozen=True)
class IssueItem:
    """What an issue shows of one update (a snapshot, independent of later content edits)."""

    id: str
    title: str
    url: str
    date: datetime
    lang: str
    targets: tuple[str, ...]
    summary: str

    @classmethod
    def from_update(cls, update: Update) -> IssueItem:
        return cls(
            id=update.id,
            title=update.title,
            url=update.url,
            date=update.date,
            lang=update.lang,
            targets=tuple(update.targets),
            summary=update.summary,
        )

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "date": self.date.isoformat(),
            "lang": self.lang,
            "targets": list(self.targets),
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: dict) -> IssueItem:
        return cls(
            id=data["id"],
            title=data["title"],
            url=data["url"],
            date=datetime.fromisoformat(data["date"]),
            lang=data["lang"],
            targets=tuple(data["targets"]),
            summary=data["summary"],
        )


@dataclass(frozen=True)
class Issue:
    number: int
    window_start: datetime
    window_end: datetime
    created_at: datetime
    items: tuple[IssueItem, ...]  # newest first

    def for_targets(self, targets: Sequence[str]) -> tuple[IssueItem, ...]:
        """The items a subscriber with this target filter gets (empty filter: all)."""
        if not targets:
            return self.items
        return tuple(item for item in self.items if any(t in targets for t in item.targets))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class IssueStore:
    """Issues in the state database."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        statedb.ensure_schema(conn, "newsletter", MIGRATIONS)

    def _issue(self, row: sqlite3.Row | None) -> Issue | None:
        if row is None:
            return None
        return Issue(
            number=row["number"],
            window_start=_parse(row["window_start"]),
            window_end=_parse(row["window_end"]),
            created_at=_parse(row["created_at"]),
            items=tuple(IssueItem.from_json(d) for d in json.loads(row["items"])),
        )

    def get(self, number: int) -> Issue | None:
        return self._issue(
            self.conn.execute("SELECT * FROM newsletter_issues WHERE number = ?", (number,)).fetchone()
        )

    def latest(self) -> Issue | None:
        row = self.conn.execute("SELECT * FROM newsletter_issues ORDER BY number DESC LIMIT 1").fetchone()
        return self._issue(row)

    def first(self) -> Issue | None:
        row = self.conn.execute("SELECT * FROM newsletter_issues ORDER BY number LIMIT 1").fetchone()
        return self._issue(row)

    def all(self) -> list[Issue]:
        rows = self.conn.execute("SELECT * FROM newsletter_issues ORDER BY number").fetchall()
        return [self._issue(row) for row in rows]

    def plan(
        self,
        updates: Sequence[Update],
        now: datetime,
        *,
        since: datetime | None = None,
        first_issue_days: int = 30,
    ) -> Issue:
        """The next issue as it would be built at ``now`` (nothing is written)."""
        previous = self.latest()
        if since is not None:
            start = since
        elif previous is not None:
            start = previous.window_end
        else:
            start = now - timedelta(days=first_issue_days)
        if now < start:
            # both times in the zone of --now, to the second: comparable at a glance
            end_text = now.isoformat(timespec="seconds")
            start_text = start.astimezone(now.tzinfo).isoformat(timespec="seconds")
            if since is not None:
                raise IssueError(f"--since ({start_text}) is after the end of the window ({end_text})")
            raise IssueError(
                f"the window would end ({end_text}) before it starts ({start_text}); "
                f"issue {previous.number} already covers up to {start_text} "
                f"(see it with --issue {previous.number}; the next issue can start after {start_text})"
            )
        if since is not None:
            floor = since
        else:
            first = self.first()
            floor = first.window_start if first is not None else start
        included = {row[0] for row in self.conn.execute("SELECT update_id FROM newsletter_issue_updates")}
        chosen = [u for u in updates if floor < u.date <= now and u.id not in included]
        return Issue(
            number=(previous.number + 1) if previous else 1,
            window_start=start,
            window_end=now,
            created_at=now,
            items=tuple(IssueItem.from_update(u) for u in chosen),
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
        with statedb.transaction(self.conn):
            issue = self.plan(updates, now, since=since, first_issue_days=first_issue_days)
            if not issue.items and not force:
                return None
            if check is not None:
                check(issue)
            self.conn.execute(
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
            self.conn.executemany(
                "INSERT INTO newsletter_issue_updates (update_id, issue) VALUES (?, ?)",
                [(item.id, issue.number) for item in issue.items],
            )
        return self.get(issue.number)


__all__ = ["Issue", "IssueError", "IssueItem", "IssueStore"]
