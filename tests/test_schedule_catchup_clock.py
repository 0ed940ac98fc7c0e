"""A last run time stored in the future (the clock was set back), issue 17 defect 13.

Taken at its word it stalled interval jobs until that time, and ``jobs`` showed another next run
than ``schedule`` used. Now it counts as "now", with a warning in the log and the run history,
and both commands plan with :func:`pipeline.schedule.catchup.plan_job`.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.schedule.catchup import plan_job
from pipeline.stores.sqlite.history import SQLiteRunHistory
from tests.schedule_helpers import Project, Scheduler, clean_env, make_project, pipeline_cmd

STHLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=STHLM)
GRACE = timedelta(minutes=10)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "project")


def test_a_future_last_fire_counts_as_now_for_an_interval():
    trigger = IntervalTrigger(minutes=15, start_date=NOW + timedelta(minutes=15), timezone=STHLM)
    planned = plan_job(trigger, "every 15m", ("every 15m", NOW + timedelta(days=400)), NOW, GRACE)
    assert planned.next_run_time == NOW + timedelta(minutes=15)
    assert planned.last_fire == NOW and planned.future_last_fire == NOW + timedelta(days=400)
    assert "in the future" in planned.clock_warning()
    assert not planned.catch_up.missed


@pytest.mark.parametrize("ahead", [timedelta(microseconds=1), timedelta(seconds=1), timedelta(days=1)])
def test_just_ahead_is_in_the_future_too(ahead):
    trigger = IntervalTrigger(hours=1, start_date=NOW + timedelta(hours=1), timezone=STHLM)
    planned = plan_job(trigger, "every 1h", ("every 1h", NOW + ahead), NOW, GRACE)
    assert planned.next_run_time == NOW + timedelta(hours=1)
    assert planned.future_last_fire is not None


def test_a_past_last_fire_and_an_edited_schedule_are_planned_as_before():
    trigger = IntervalTrigger(minutes=15, start_date=NOW + timedelta(minutes=15), timezone=STHLM)
    past = plan_job(trigger, "every 15m", ("every 15m", NOW - timedelta(minutes=5)), NOW, GRACE)
    assert past.next_run_time == NOW + timedelta(minutes=10) and past.clock_warning() is None
    edited = plan_job(trigger, "every 15m", ("every 1h", NOW + timedelta(days=3)), NOW, GRACE)
    assert edited.changed_from == "every 1h" and edited.future_last_fire is None
    mondays = CronTrigger(day_of_week="mon", hour=8, timezone=STHLM)
    cron = plan_job(mondays, "cron", ("cron", NOW + timedelta(days=30)), NOW, GRACE)
    assert cron.next_run_time == datetime(2026, 12, 7, 8, 0, tzinfo=STHLM)


def store_future_last_fire(project: Project, job: str, trigger: str, ahead: timedelta) -> datetime:
    history = SQLiteRunHistory(project.state)
    future = datetime.now(UTC) + ahead
    history.set_last_fire(job, trigger, future)
    return future


def test_the_scheduler_runs_an_interval_job_whose_last_run_is_in_the_future(project: Project) -> None:
    project.schedule('[jobs.good]\nkind = "build"\ninterval = "1s"\noptions = { out = "site" }\n')
    store_future_last_fire(project, "good", "every 1s", timedelta(days=365))
    scheduler = Scheduler.start(project)
    try:
        scheduler.wait_for("job good: success", timeout=90)  # before: not until next year
        assert scheduler.stop() == 0
        assert "in the future (was the clock set back?): counted as now" in scheduler.output
    finally:
        scheduler.kill()
    history = SQLiteRunHistory(project.state)
    runs = history.runs("good")
    assert any(row.outcome == "warning" and "in the future" in row.summary for row in runs)
    assert any(row.outcome == "success" for row in runs)
    stored = history.last_fire("good")
    assert stored is not None and stored[1] <= datetime.now(UTC)  # no longer in the future


def jobs_next_run(project: Project) -> tuple[datetime, str]:
    result = subprocess.run(
        pipeline_cmd("jobs"), cwd=project.root, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("daily "))
    return parse_local(row), result.stderr


def parse_local(text: str) -> datetime:
    """The first ``YYYY-MM-DD HH:MM[:SS] … (+HH:MM)`` in a line of ``jobs`` or the log."""
    import re

    found = re.search(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d(?::\d\d)?) \S+ \(([+-]\d\d:\d\d)\)", text)
    assert found, text
    date, clock, offset = found.groups()
    return datetime.fromisoformat(f"{date}T{clock}{offset}")


def test_jobs_shows_the_next_run_the_scheduler_uses(project: Project) -> None:
    project.schedule('[jobs.daily]\nkind = "build"\ninterval = "1d"\noptions = { out = "site" }\n')
    future = store_future_last_fire(project, "daily", "every 1d", timedelta(days=30))
    shown, stderr = jobs_next_run(project)
    scheduler = Scheduler.start(project)
    try:
        line = scheduler.wait_for("job daily: next run", timeout=60)
        assert scheduler.stop() == 0
    finally:
        scheduler.kill()
    used = parse_local(line.split("next run", 1)[1])
    # Both are "now + 1 day", with "now" taken a few seconds apart; before the fix the scheduler
    # planned from the stored time, 30 days later than what jobs showed.
    assert abs(used - shown) < timedelta(hours=1), (shown, used)
    assert used < future
    assert "in the future" in stderr
