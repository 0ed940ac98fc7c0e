"""What to do about fire times that passed while no scheduler was running.

APScheduler's in-memory job store starts every job afresh, so by itself a restarted scheduler
neither runs nor reports what it missed. We remember each job's last fire time in the state
database and, on start, plan from it: of the fire times missed, only the latest may run, and
only if it is still within the job's misfire grace time (once, however many were missed); the
others are skipped and logged. A newsletter is never sent days late, and a build missed by a
minute happens at once instead of waiting for the next slot.

:func:`plan_job` is the one place that reads a job's stored state for planning, used by the
scheduler and by ``jobs`` alike, so the next run ``jobs`` shows is the one ``schedule`` uses. A
stored time in the future (the clock was set back) counts as now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

# A cron trigger is stepped through one fire time at a time; past this many missed fire times
# (a per-second cron after a long stop) we stop counting and look only at the grace window.
COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class CatchUp:
    run_at: datetime | None  # the missed fire time that runs now (within grace), if any
    skipped: int  # missed fire times that will not run
    skipped_first: datetime | None
    skipped_last: datetime | None
    next_run_time: datetime | None  # what the scheduler should fire next (may be run_at, in the past)
    counted_all: bool = True  # False: more than COUNT_LIMIT were missed; ``skipped`` is a lower bound

    @property
    def missed(self) -> bool:
        return self.run_at is not None or self.skipped > 0


def plan_catch_up(
    trigger: BaseTrigger, last_fire: datetime | None, now: datetime, grace: timedelta
) -> CatchUp:
    """Plan the first scheduling of a job given the last fire time dealt with (None: never)."""
    if last_fire is None:
        return CatchUp(None, 0, None, None, trigger.get_next_fire_time(None, now))
    first = trigger.get_next_fire_time(last_fire, now)
    if first is None or first > now:
        # Nothing missed; keep the job's cadence (an interval continues from its last run).
        return CatchUp(None, 0, None, None, first)

    missed, latest, before_latest, counted_all = _missed(trigger, first, now)
    if now - latest <= grace:
        run_at, skipped, skipped_last = latest, missed - 1, before_latest
    else:
        run_at, skipped, skipped_last = None, missed, latest
    skipped_first = first if skipped else None
    next_run = run_at if run_at is not None else trigger.get_next_fire_time(latest, now)
    return CatchUp(run_at, skipped, skipped_first, skipped_last, next_run, counted_all)


def _missed(
    trigger: BaseTrigger, first: datetime, now: datetime
) -> tuple[int, datetime, datetime | None, bool]:
    """How many fire times from ``first`` up to ``now``, the latest of them and the one before."""
    if isinstance(trigger, IntervalTrigger) and trigger.jitter is None:
        step = trigger.interval
        count = int((now - first) / step) + 1
        latest = first + (count - 1) * step
        return count, latest, (latest - step if count > 1 else None), True
    count, latest, before = 1, first, None
    while count < COUNT_LIMIT:
        following = trigger.get_next_fire_time(latest, now)
        if following is None or following > now:
            return count, latest, before, True
        count, latest, before = count + 1, following, latest
    # Too many to count (a per-second cron after a long stop): step through the last day only.
    probe = trigger.get_next_fire_time(now - timedelta(days=1), now) or latest
    while (following := trigger.get_next_fire_time(probe, now)) is not None and following <= now:
        probe, before = following, probe
    return count, max(probe, latest), before, False


@dataclass(frozen=True)
class JobPlan:
    """How a job is scheduled on start: the one answer both ``schedule`` and ``jobs`` give."""

    catch_up: CatchUp
    last_fire: datetime | None  # the stored last fire time as used (a future one: ``now``)
    future_last_fire: datetime | None  # the stored time when it lay in the future, else None
    changed_from: str | None  # the stored trigger description when the schedule was edited

    @property
    def next_run_time(self) -> datetime | None:
        return self.catch_up.next_run_time

    def clock_warning(self) -> str | None:
        """The warning for a future last fire time (the clock was set back), or None."""
        if self.future_last_fire is None:
            return None
        return (
            f"last run recorded at {self.future_last_fire.isoformat(timespec='seconds')}, which is in "
            "the future (was the clock set back?): counted as now"
        )


def plan_job(
    trigger: BaseTrigger,
    described: str,
    state: tuple[str, datetime] | None,
    now: datetime,
    grace: timedelta,
) -> JobPlan:
    """Plan a job from its stored state ``(trigger description, last fire time)``.

    A last fire time of another trigger description is ignored (the schedule was edited). One in
    the future counts as ``now``: the clock was corrected backwards after it was recorded, and
    taken at its word it would stall an interval job until that time (the next run would be
    computed from it) while nothing ran.
    """
    if state is None:
        return JobPlan(plan_catch_up(trigger, None, now, grace), None, None, None)
    stored_trigger, stored_fire = state
    if stored_trigger != described:
        return JobPlan(plan_catch_up(trigger, None, now, grace), None, None, stored_trigger)
    future = stored_fire if stored_fire > now else None
    last = now if future is not None else stored_fire
    return JobPlan(plan_catch_up(trigger, last, now, grace), last, future, None)
