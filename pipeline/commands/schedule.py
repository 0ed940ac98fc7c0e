"""``schedule``: run the scheduled jobs (build, newsletter, send, …) in the foreground.

Run the jobs declared in the schedule file until SIGTERM or Ctrl-C. Each run is logged to stdout and
to the run history in the state database. With SQLite one scheduler per state folder; with
PostgreSQL several may run, one active and the others standing by to take over within [scheduler]
failover. On a stop signal a running job may finish within [scheduler] shutdown_wait, then the
process exits 0.
"""

from __future__ import annotations

import argparse

from pipeline.commands._options import CommandFailed
from pipeline.commands._schedule import add_schedule_options, schedule_from
from pipeline.schedule.registry import settings_problems

ORDER = 80


def arguments(parser: argparse.ArgumentParser) -> None:
    add_schedule_options(parser)


def run(args: argparse.Namespace) -> int:
    schedule = schedule_from(args)
    # APScheduler is imported only by the command that needs it.
    from pipeline.schedule.lock import SchedulerLocked
    from pipeline.schedule.logs import configure_logging
    from pipeline.schedule.runner import SchedulerService

    if not schedule.enabled_jobs:
        raise CommandFailed(f"every job in {schedule.source} is disabled; nothing to run")
    # A typo in a table only some jobs read (e.g. [newsletter]) must stop the start, not the
    # Monday-morning run; `run JOB` reports it for that job alone.
    kinds = set().union(*(job.kinds() for job in schedule.enabled_jobs))
    problems = settings_problems(kinds, schedule.settings)
    if problems:
        raise CommandFailed("invalid settings for the scheduled jobs; nothing was started", details=problems)
    configure_logging(schedule.settings.tz)
    try:
        return SchedulerService(schedule).run()
    except SchedulerLocked as exc:
        raise CommandFailed(str(exc)) from None
