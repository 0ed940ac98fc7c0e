"""Planning runs missed while no scheduler was running (pure: APScheduler triggers, fixed clocks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.schedule.catchup import plan_catch_up

STHLM = ZoneInfo("Europe/Stockholm")
MONDAYS_8 = CronTrigger(day_of_week="mon", hour=8, timezone=STHLM)
GRACE = timedelta(hours=3)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


def test_first_start_has_nothing_to_catch_up() -> None:
    plan = plan_catch_up(MONDAYS_8, None, at("2026-10-26T09:00"), GRACE)
    assert not plan.missed
    assert plan.next_run_time == at("2026-11-02T08:00")


def test_nothing_missed_keeps_the_cadence() -> None:
    plan = plan_catch_up(MONDAYS_8, at("2026-10-26T08:00"), at("2026-10-28T12:00"), GRACE)
    assert not plan.missed
    assert plan.next_run_time == at("2026-11-02T08:00")


def test_missed_within_grace_runs_once() -> None:
    plan = plan_catch_up(MONDAYS_8, at("2026-10-19T08:00"), at("2026-10-26T10:59"), GRACE)
    assert plan.run_at == at("2026-10-26T08:00")
    assert plan.next_run_time == plan.run_at
    assert plan.skipped == 0


def test_missed_outside_grace_is_skipped_and_next_is_next_week() -> None:
    plan = plan_catch_up(MONDAYS_8, at("2026-10-19T08:00"), at("2026-10-26T11:01"), GRACE)
    assert plan.run_at is None
    assert plan.skipped == 1
    assert plan.skipped_first == plan.skipped_last == at("2026-10-26T08:00")
    assert plan.next_run_time == at("2026-11-02T08:00")


def test_a_long_stop_runs_only_the_latest_and_counts_the_rest() -> None:
    # Down for three weeks, back on Monday 09:00: one newsletter, not three.
    plan = plan_catch_up(MONDAYS_8, at("2026-10-05T08:00"), at("2026-10-26T09:00"), GRACE)
    assert plan.run_at == at("2026-10-26T08:00")
    assert plan.skipped == 2
    assert (plan.skipped_first, plan.skipped_last) == (at("2026-10-12T08:00"), at("2026-10-19T08:00"))


def test_a_long_stop_outside_grace_runs_nothing() -> None:
    plan = plan_catch_up(MONDAYS_8, at("2026-10-05T08:00"), at("2026-10-28T09:00"), GRACE)
    assert plan.run_at is None
    assert plan.skipped == 3
    assert plan.skipped_last == at("2026-10-26T08:00")
    assert plan.next_run_time == at("2026-11-02T08:00")


def test_interval_jobs_are_counted_without_stepping() -> None:
    now = at("2026-11-27T12:00")
    hourly = IntervalTrigger(hours=1, start_date=now, timezone=STHLM)
    plan = plan_catch_up(hourly, now - timedelta(hours=5, minutes=2), now, timedelta(minutes=10))
    assert plan.run_at == now - timedelta(minutes=2)
    assert plan.skipped == 4
    assert plan.skipped_last == now - timedelta(hours=1, minutes=2)

    stale = plan_catch_up(hourly, now - timedelta(hours=1, minutes=20), now, timedelta(minutes=10))
    assert stale.run_at is None and stale.skipped == 1
    assert stale.next_run_time == now + timedelta(minutes=40)  # the cadence continues

    # A year of a per-second interval is arithmetic, not 31 million steps.
    every_second = IntervalTrigger(seconds=1, start_date=now, timezone=STHLM)
    year = plan_catch_up(every_second, now - timedelta(days=365), now, timedelta(minutes=1))
    assert year.run_at == now and year.skipped == 365 * 86400 - 1


def test_daily_cron_across_the_autumn_change() -> None:
    daily = CronTrigger(hour=8, timezone=STHLM)
    plan = plan_catch_up(daily, at("2026-10-23T08:00"), at("2026-10-26T08:30"), timedelta(hours=1))
    assert plan.run_at == datetime(2026, 10, 26, 7, 0, tzinfo=ZoneInfo("UTC"))  # 08:00 CET
    assert plan.skipped == 2  # Saturday (CEST) and Sunday (CET) 08:00
