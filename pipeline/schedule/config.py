"""Reading ``schedule.toml``: every job validated, every problem reported, before anything starts.

The file has one ``[jobs.NAME]`` table per job and an optional ``[scheduler]`` table for the
service itself. Each problem names the file, the job and the key, e.g.
``schedule.toml: [jobs.weekly] cron.hour: …``. Cron fields are checked by building APScheduler's
own ``CronTrigger`` from them, so what passes here is exactly what the scheduler accepts.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config.site import SettingsError, default_settings, load_checked_settings
from pipeline.config.tomlfile import read_toml_document
from pipeline.schedule.reader import Reader
from pipeline.schedule.spec import (
    JobSpec,
    Schedule,
    ScheduleError,
    TriggerSpec,
    format_duration,
    local_time,
    parse_duration,
)

DEFAULT_SCHEDULE_FILE = "schedule.toml"


def load_schedule(path: str | Path | None = None, site: str | Path | None = None) -> Schedule:
    """Read and validate a schedule file and the site settings its jobs use.

    The site settings file is, in order: ``site`` (the ``--site`` option), ``[scheduler] site``
    (relative to the schedule file), ``$GOAL17_CONFIG``, ``site.toml`` beside the schedule file,
    else the built-in defaults. Raises :class:`ScheduleError` or ``SettingsError``.
    """
    path = Path(path or DEFAULT_SCHEDULE_FILE)
    document = read_toml_document(path, "schedule file", ScheduleError)
    data = document.data
    reader = Reader(str(path), document.line_of)
    scheduler = reader.scheduler_table(data)
    settings_path = _settings_path(path, site, scheduler.get("site"))
    settings_problems: list[str] = []
    try:
        settings = load_checked_settings(settings_path)
    except SettingsError as exc:
        settings_problems = exc.problems
        settings = default_settings()  # only so that the jobs are checked too: all problems at once
    try:
        schedule = reader.schedule(data, scheduler, settings)
    except ScheduleError as exc:
        raise ScheduleError(exc.problems + settings_problems) from None
    if settings_problems:
        raise SettingsError(settings_problems)
    return schedule


def _settings_path(schedule_path: Path, override: str | Path | None, configured: str | None) -> Path | None:
    if override:
        return Path(override)
    if configured:
        candidate = Path(configured)
        return candidate if candidate.is_absolute() else schedule_path.parent / candidate
    if os.environ.get("GOAL17_CONFIG"):
        return Path(os.environ["GOAL17_CONFIG"])
    beside = schedule_path.parent / "site.toml"
    return beside if beside.exists() else None


__all__ = [
    "DEFAULT_SCHEDULE_FILE",
    "JobSpec",
    "Schedule",
    "ScheduleError",
    "TriggerSpec",
    "format_duration",
    "load_schedule",
    "local_time",
    "parse_duration",
]
