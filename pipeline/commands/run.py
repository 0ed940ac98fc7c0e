"""``run``: run one scheduled job now (the same code the scheduler runs).

Run one job from the schedule file now, with its options, exactly as the scheduler would, and record
it in the run history. Exit 0 on success, 1 if the job failed, 3 if it was deferred (e.g. a send
with readers left for the retries job).

``run JOB``: run one job of ``schedule.toml`` now, through the scheduler's own code path.

This is also the plain-cron alternative to the scheduler service: ``python -m pipeline run build``.
"""

from __future__ import annotations

import argparse

from pipeline.commands._options import CommandFailed
from pipeline.commands._schedule import add_schedule_options, schedule_from

ORDER = 82


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB", help="the job's name: the NAME of its [jobs.NAME] table")
    add_schedule_options(parser)


def run(args: argparse.Namespace) -> int:
    schedule = schedule_from(args)
    from pipeline.schedule.execution import JobFailed, execute
    from pipeline.schedule.history import open_history
    from pipeline.schedule.logs import configure_logging, log

    try:
        job = schedule.job(args.job)
    except KeyError as exc:
        raise CommandFailed(str(exc.args[0])) from None
    configure_logging(schedule.settings.tz)
    if not job.enabled:
        log.info("job %s is disabled in %s; running it anyway, as asked", job.name, schedule.source)
    history = open_history(schedule.settings)
    try:
        result = execute(job, schedule.settings, history, "manual")
    except JobFailed as exc:
        raise CommandFailed(f"job {job.name} failed: {exc.result.summary}") from None
    return 3 if result.outcome == "deferred" else 0
