"""A validated schedule as data: jobs, their triggers, durations and how fire times are shown.

What :mod:`~pipeline.schedule.reader` produces from ``schedule.toml`` and what the scheduler,
``jobs`` and ``run`` consume; no file reading and no validation rules here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config.site import Settings

CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DEFAULT_FAILOVER = timedelta(seconds=30)


class ScheduleError(Exception):
    """An invalid schedule; ``problems`` lists each as ``file: [jobs.NAME] key: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TriggerSpec:
    """When a job fires: cron fields or a fixed interval, in a time zone."""

    timezone: str
    cron: Mapping[str, int | str] | None = None
    interval: timedelta | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def make(self, now: datetime | None = None) -> BaseTrigger:
        """The APScheduler trigger; an interval starts one interval after ``now``."""
        if self.cron is not None:
            return CronTrigger(timezone=self.tz, **self.cron)
        assert self.interval is not None
        start = (now or datetime.now(self.tz)) + self.interval
        return IntervalTrigger(seconds=self.interval.total_seconds(), start_date=start, timezone=self.tz)

    def describe(self) -> str:
        """A short, stable text of the trigger (shown by ``jobs``, stored to notice edits)."""
        if self.cron is not None:
            fields = " ".join(f"{k}={self.cron[k]}" for k in CRON_FIELDS if k in self.cron)
            return f"cron {fields} ({self.timezone})"
        assert self.interval is not None
        return f"every {format_duration(self.interval)}"


@dataclass(frozen=True)
class JobSpec:
    name: str
    kind: str
    trigger: TriggerSpec
    misfire_grace: timedelta
    enabled: bool = True
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def kinds(self) -> set[str]:
        """This job's kind and, for a pipeline, its steps' kinds."""
        steps = self.options.get("steps", []) if self.kind == "pipeline" else []
        return {self.kind, *(step.kind for step in steps)}

    def call_options(self) -> dict[str, Any]:
        """The options dict the job function receives (a fresh copy for every run)."""
        return dict(self.options)


@dataclass(frozen=True)
class Schedule:
    """A validated schedule with the site settings its jobs run with."""

    source: str
    jobs: tuple[JobSpec, ...]
    settings: Settings
    shutdown_wait: timedelta
    workers: int
    # PostgreSQL only: how soon a standby scheduler takes over from one that died
    failover: timedelta = DEFAULT_FAILOVER

    def job(self, name: str) -> JobSpec:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs)
        raise KeyError(f"no job {name!r} in {self.source} (jobs: {known})")

    @property
    def enabled_jobs(self) -> tuple[JobSpec, ...]:
        return tuple(job for job in self.jobs if job.enabled)


def parse_duration(value: Any) -> timedelta:
    """``90`` (seconds), ``"90s"``, ``"15m"``, ``"3h"``, ``"1d"``, ``"1h30m"`` → timedelta."""
    if isinstance(value, bool):
        raise ValueError(f'expected a duration such as "15m" or a number of seconds, got {value!r}')
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip() and (match := _DURATION.match(value.strip().lower())):
        weeks, days, hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + secs
    else:
        raise ValueError(
            f'expected a duration such as "30s", "15m", "3h", "1d" or a number of seconds, got {value!r}'
        )
    if seconds < 1:
        raise ValueError(f"must be at least 1 second, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def zone_ok(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``2026-10-26 08:00 CET (+01:00)``: how ``jobs`` and the logs show a fire time.

    Seconds are shown only when not zero (a per-second test schedule, not a Monday newsletter).
    """
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    clock = f"{local:%H:%M:%S}" if local.second or local.microsecond else f"{local:%H:%M}"
    return f"{local:%Y-%m-%d} {clock} {local.tzname()} ({offset[:3]}:{offset[3:]})"


__all__ = [
    "CRON_FIELDS",
    "DEFAULT_FAILOVER",
    "JobSpec",
    "Schedule",
    "ScheduleError",
    "TriggerSpec",
    "format_duration",
    "local_time",
    "parse_duration",
    "zone_ok",
]
