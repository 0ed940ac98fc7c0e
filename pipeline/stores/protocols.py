"""One ``typing.Protocol`` per store: what every backend's class of that store must provide.

Each store owner keeps one clearly delimited block below, so merging appended blocks is trivial.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.schedule.history import RunRow


# -- run history (pg-ops) ---------------------------------------------------------------------
class RunHistory(Protocol):
    """The scheduler's run history and each job's last fire time (:mod:`pipeline.schedule.history`).

    Safe to use from several threads and processes; with PostgreSQL it is shared by every scheduler
    replica, so the last fire times it keeps are what a standby plans its catch-up from.
    """

    def start(self, job: str, kind: str, trigger: str, scheduled_for: datetime | None = None) -> int: ...

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
        """Record the outcome; with ``last_fire`` (trigger, fire time) also :meth:`set_last_fire`,
        in the same transaction."""
        ...

    def set_scheduled_for(self, run_id: int, scheduled_for: datetime) -> None: ...

    def mark_interrupted(self, run_id: int, summary: str) -> None: ...

    def record_skip(
        self,
        job: str,
        kind: str,
        outcome: str,
        scheduled_for: datetime,
        summary: str,
        trigger: str = "schedule",
    ) -> None: ...

    def record_warning(self, job: str, kind: str, at: datetime, summary: str) -> None: ...

    def clamp_last_fire(self, job: str, now: datetime) -> None: ...

    def close_abandoned(self) -> int: ...

    def last_fire(self, job: str) -> tuple[str, datetime] | None: ...

    def set_last_fire(self, job: str, trigger: str, fire_time: datetime) -> None: ...

    def runs(self, job: str | None = None, limit: int = 100) -> list[RunRow]: ...


class SchedulerLock(Protocol):
    """Who may fire jobs: a flock on one machine, a PostgreSQL advisory lock among replicas."""

    @property
    def lost(self) -> str | None:
        """Why the lock was lost while held (the service must stop at once), else None."""
        ...

    def describe(self) -> str: ...

    def acquire(self, stopping: Callable[[], bool]) -> bool:
        """Hold the lock (True), or give up because ``stopping()`` became true (False)."""
        ...

    def release(self) -> None: ...


# -- end run history (pg-ops) -----------------------------------------------------------------
