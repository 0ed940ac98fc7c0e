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

This module is the model and the pure planning; the store (one class per backend, opened with
:func:`pipeline.stores.backend.open_backend`) is in :mod:`pipeline.stores.sql.issues`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.reading.model import Update


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


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def plan_issue(
    updates: Sequence[Update],
    now: datetime,
    *,
    previous: Issue | None,
    first: Issue | None,
    included: Collection[str],
    since: datetime | None = None,
    first_issue_days: int = 30,
) -> Issue:
    """The next issue after ``previous`` as it would be built at ``now`` (pure: nothing is read).

    ``first`` is the first issue recorded (its window start is the floor), ``included`` the ids of
    every update already in an issue.
    """
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
    floor = since if since is not None else first.window_start if first is not None else start
    chosen = [u for u in updates if floor < u.date <= now and u.id not in included]
    return Issue(
        number=(previous.number + 1) if previous else 1,
        window_start=start,
        window_end=now,
        created_at=now,
        items=tuple(IssueItem.from_update(u) for u in chosen),
    )


def __getattr__(name: str):
    """``IssueStore``: the SQLite store under the name older callers import (``IssueStore(conn)``);
    new code opens the configured one with ``open_backend(settings).issues()``."""
    if name == "IssueStore":
        from pipeline.stores.sqlite.issues import SQLiteIssueStore

        return SQLiteIssueStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Issue", "IssueError", "IssueItem", "parse_time", "plan_issue"]
