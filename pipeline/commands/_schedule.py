"""Options and loading shared by the ``schedule``, ``jobs`` and ``run`` commands."""

from __future__ import annotations

import argparse

from pipeline.commands._options import CommandFailed
from pipeline.config.site import SettingsError
from pipeline.schedule.config import DEFAULT_SCHEDULE_FILE, Schedule, ScheduleError, load_schedule


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=DEFAULT_SCHEDULE_FILE,
        help=f"schedule file (default: {DEFAULT_SCHEDULE_FILE})",
    )
    parser.add_argument(
        "--site",
        metavar="FILE",
        help="site settings file for the jobs (default: [scheduler] site in the schedule file, "
        "else $GOAL17_CONFIG, else site.toml beside the schedule file)",
    )


def schedule_from(args: argparse.Namespace) -> Schedule:
    try:
        return load_schedule(args.config, args.site)
    except ScheduleError as exc:
        raise CommandFailed(
            f"invalid schedule {args.config}; nothing was started", details=exc.problems
        ) from None
    except SettingsError as exc:
        raise CommandFailed("invalid settings; nothing was started", details=exc.problems) from None
