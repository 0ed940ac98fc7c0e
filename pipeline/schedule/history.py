"""The scheduler's memory: a run history and each job's last fire time, in the shared state.

``schedule_runs`` has one row per run (scheduled or by hand) and per skipped fire time, so an
operator can answer "did the newsletter go out on Monday, and how long did the build take?" with
sqlite3 or psql. ``schedule_jobs`` keeps, per job, the last fire time the scheduler dealt with;
that is what lets a restarted scheduler — or a standby taking over from one that died — see the
runs that were missed (APScheduler's in-memory job store forgets them). Times are stored as UTC
ISO 8601 text (``2026-10-26T07:00:00.000Z``) on both backends: it sorts correctly and compares
exactly when a state folder is copied to PostgreSQL.

This module holds what both stores share (the row type, the time format, the outcomes); the SQL
is in :mod:`pipeline.stores.sqlite.history` and :mod:`pipeline.stores.postgres.history`, and
:func:`open_history` picks one from ``settings.state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config.site import Settings
    from pipeline.stores.protocols import RunHistory

# "deferred": the run finished with work left for a later run (a send with readers to retry).
# "warning": not a run but something the scheduler noticed about the job (a last fire time in
# the future); no started_at, like the missed and skipped rows.
OUTCOMES = ("running", "success", "deferred", "failed", "interrupted", "missed", "skipped", "warning")
ABANDONED = "the process running it ended before it finished"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class RunRow:
    id: int
    job: str
    kind: str
    trigger: str
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    outcome: str
    summary: str | None
    error: str | None
    pid: int | None


def run_row(row: Mapping[str, Any]) -> RunRow:
    """A ``schedule_runs`` row (``sqlite3.Row`` or psycopg's dict row) as a :class:`RunRow`."""

    def when(key: str) -> datetime | None:
        return from_utc_text(row[key]) if row[key] else None

    return RunRow(
        id=row["id"],
        job=row["job"],
        kind=row["kind"],
        trigger=row["trigger"],
        scheduled_for=when("scheduled_for"),
        started_at=when("started_at"),
        finished_at=when("finished_at"),
        duration_s=row["duration_s"],
        outcome=row["outcome"],
        summary=row["summary"],
        error=row["error"],
        pid=row["pid"],
    )


def open_history(settings: Settings) -> RunHistory:
    """The run history of the configured backend (``settings.state``), schema checked."""
    from pipeline.stores.backend import open_backend

    return open_backend(settings).run_history()


def existing_history(settings: Settings) -> RunHistory | None:
    """The history, or None when there is no state yet (``jobs`` must not create a state folder)."""
    from pipeline.stores import statedb

    if settings.state.backend == "sqlite" and not (Path(settings.state_dir) / statedb.DB_NAME).exists():
        return None
    return open_history(settings)


__all__ = ["OUTCOMES", "RunRow", "existing_history", "from_utc_text", "open_history", "run_row", "utc_text"]
