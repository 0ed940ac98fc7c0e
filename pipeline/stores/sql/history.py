"""The scheduler's run history: the statements both backends run, in SQL both accept.

What differs stays in each backend's class: the tables' types (SQLite's ``REAL``, PostgreSQL's
identities) and :meth:`close_abandoned` — one machine can look at process IDs, a shared database
cannot. The types and time format both use are in :mod:`pipeline.schedule.history`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pipeline.schedule.history import RunRow, from_utc_text, run_row, utc_text
from pipeline.stores.sql.access import SqlAccess

# Never moves a last fire time backwards, unless the trigger was edited (then it starts afresh).
# The upsert locks the row, so this holds with concurrent writers too.
SET_LAST_FIRE = (
    "INSERT INTO schedule_jobs (job, trigger, last_fire) VALUES (?, ?, ?) "
    "ON CONFLICT (job) DO UPDATE SET last_fire = excluded.last_fire, trigger = excluded.trigger "
    "WHERE excluded.trigger <> schedule_jobs.trigger OR excluded.last_fire > schedule_jobs.last_fire"
)


class HistoryRules(SqlAccess):
    """:class:`~pipeline.stores.protocols.RunHistory` but ``close_abandoned``; a backend adds its access."""

    def start(self, job: str, kind: str, trigger: str, scheduled_for: datetime | None = None) -> int:
        """Record a run as ``running`` before it starts, so a crash leaves a trace."""
        row = self._one(
            "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, started_at, outcome, pid) "
            "VALUES (?, ?, ?, ?, ?, 'running', ?) RETURNING id",
            (
                job,
                kind,
                trigger,
                utc_text(scheduled_for) if scheduled_for else None,
                utc_text(datetime.now(UTC)),
                os.getpid(),
            ),
        )
        assert row is not None
        return int(row["id"])

    def finish(
        self,
        run_id: int,
        outcome: str,
        started: datetime,
        finished: datetime,
        summary: str | None = None,
        error: str | None = None,
        last_fire: tuple[str, datetime] | None = None,
    ) -> None:
        duration = round((finished - started).total_seconds(), 3)
        with self._transaction():
            self._run(
                "UPDATE schedule_runs SET outcome = ?, started_at = ?, finished_at = ?, duration_s = ?, "
                "summary = ?, error = ? WHERE id = ?",
                (outcome, utc_text(started), utc_text(finished), duration, summary, error, run_id),
            )
            if last_fire is not None:
                row = self._one("SELECT job FROM schedule_runs WHERE id = ?", (run_id,))
                assert row is not None, run_id
                self.set_last_fire(row["job"], *last_fire)

    def set_scheduled_for(self, run_id: int, scheduled_for: datetime) -> None:
        self._run(
            "UPDATE schedule_runs SET scheduled_for = ? WHERE id = ?", (utc_text(scheduled_for), run_id)
        )

    def mark_interrupted(self, run_id: int, summary: str) -> None:
        self._run(
            "UPDATE schedule_runs SET outcome = 'interrupted', finished_at = ?, summary = ? "
            "WHERE id = ? AND outcome = 'running'",
            (utc_text(datetime.now(UTC)), summary, run_id),
        )

    def record_skip(
        self,
        job: str,
        kind: str,
        outcome: str,
        scheduled_for: datetime,
        summary: str,
        trigger: str = "schedule",
    ) -> None:
        """A fire time that did not run: ``missed`` (too late) or ``skipped`` (still running)."""
        assert outcome in ("missed", "skipped")
        self._run(
            "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, outcome, summary, pid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job, kind, trigger, utc_text(scheduled_for), outcome, summary, os.getpid()),
        )

    def record_warning(self, job: str, kind: str, at: datetime, summary: str) -> None:
        """Something about ``job`` an operator should see in its history (outcome ``warning``)."""
        self._run(
            "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, outcome, summary, pid) "
            "VALUES (?, ?, 'schedule', ?, 'warning', ?, ?)",
            (job, kind, utc_text(at), summary, os.getpid()),
        )

    def clamp_last_fire(self, job: str, now: datetime) -> None:
        """Move a last fire time that lies after ``now`` back to ``now`` (the clock was set back).

        :meth:`set_last_fire` never moves backwards, so without this every fire time until the
        future one would be dropped, and a restart would still see the future time.
        """
        self._run(
            "UPDATE schedule_jobs SET last_fire = ? WHERE job = ? AND last_fire > ?",
            (utc_text(now), job, utc_text(now)),
        )

    def close_abandoned(self) -> int:
        """Runs still ``running`` whose scheduler is gone become ``interrupted`` (the backend's rule)."""
        raise NotImplementedError

    def last_fire(self, job: str) -> tuple[str, datetime] | None:
        """The trigger (as described then) and the last fire time dealt with for ``job``."""
        row = self._one("SELECT trigger, last_fire FROM schedule_jobs WHERE job = ?", (job,))
        if row is None:
            return None
        return row["trigger"], from_utc_text(row["last_fire"])

    def set_last_fire(self, job: str, trigger: str, fire_time: datetime) -> None:
        """Remember a fire time as dealt with (run, failed or skipped); never moves backwards."""
        self._run(SET_LAST_FIRE, (job, trigger, utc_text(fire_time)))

    def runs(self, job: str | None = None, limit: int = 100) -> list[RunRow]:
        """The newest runs first."""
        where, params = ("", ()) if job is None else (" WHERE job = ?", (job,))
        rows = self._all(f"SELECT * FROM schedule_runs{where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [run_row(row) for row in rows]


__all__ = ["SET_LAST_FIRE", "HistoryRules"]
