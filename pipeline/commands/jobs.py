"""``jobs``: list the scheduled jobs and when each runs next.

List the jobs of the schedule file: kind, trigger, next fire time (in the job's time zone, daylight
saving included) and the last recorded run.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from pipeline.commands._options import CommandFailed
from pipeline.commands._schedule import add_schedule_options, schedule_from
from pipeline.reading.dates import DateError, parse_datetime

ORDER = 81


def arguments(parser: argparse.ArgumentParser) -> None:
    add_schedule_options(parser)
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="compute next runs from this time instead of the clock (without offset: the site's time zone)",
    )


def run(args: argparse.Namespace) -> int:
    schedule = schedule_from(args)
    from pipeline.schedule.catchup import plan_job
    from pipeline.schedule.config import format_duration, local_time
    from pipeline.schedule.history import existing_history
    from pipeline.schedule.registry import unavailable_kinds

    settings = schedule.settings
    if args.now:
        try:
            now = parse_datetime(args.now, settings.tz)
        except DateError as exc:
            raise CommandFailed(f"--now: {exc}") from None
    else:
        now = datetime.now(settings.tz)
    history = existing_history(settings)

    rows = [("JOB", "KIND", "SCHEDULE", "GRACE", "NEXT RUN", "LAST RUN")]
    for job in schedule.jobs:
        trigger = job.trigger.make(now)
        if not job.enabled:
            upcoming = "disabled"
        else:
            state = history.last_fire(job.name) if history is not None else None
            planned = plan_job(trigger, job.trigger.describe(), state, now, job.misfire_grace)
            if planned.future_last_fire is not None:
                print(f"warning: job {job.name}: {planned.clock_warning()}", file=sys.stderr)
            plan = planned.catch_up
            if plan.run_at is not None:
                upcoming = f"at start (catch-up of {local_time(plan.run_at, job.trigger.tz)})"
            elif plan.next_run_time is None:
                upcoming = "never"
            else:
                upcoming = local_time(plan.next_run_time, job.trigger.tz)
        rows.append(
            (
                job.name,
                job.kind,
                job.trigger.describe(),
                format_duration(job.misfire_grace),
                upcoming,
                _last_run(history, job.name, job.trigger.tz),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    described = [job for job in schedule.jobs if job.description]
    if described:
        print()
        for job in described:
            print(f"{job.name}: {job.description}")
    kinds = set().union(*(job.kinds() for job in schedule.enabled_jobs))
    for reason in unavailable_kinds(kinds).values():
        print(f"note: {reason}; jobs using it will fail until it is", file=sys.stderr)
    return 0


def _last_run(history, name: str, zone) -> str:
    from pipeline.schedule.config import local_time

    if history is None:
        return "-"
    runs = [run for run in history.runs(name, limit=5) if run.started_at is not None]
    if not runs:
        return "-"
    last = runs[0]
    took = f", {last.duration_s:.1f} s" if last.duration_s is not None else ""
    return f"{last.outcome} {local_time(last.started_at, zone)}{took}"
