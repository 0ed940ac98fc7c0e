"""Reading ``schedule.toml``: every job validated, every problem reported, before anything starts.

The file has one ``[jobs.NAME]`` table per job and an optional ``[scheduler]`` table for the
service itself. Each problem names the file, the job and the key, e.g.
``schedule.toml: [jobs.weekly] cron.hour: …``. Cron fields are checked by building APScheduler's
own ``CronTrigger`` from them, so what passes here is exactly what the scheduler accepts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config.site import SITE_SPEC, Settings, SettingsError, default_settings, load_checked_settings
from pipeline.config.tomlfile import problem, read_toml_document
from pipeline.schedule.registry import KINDS, OptionSpec, Step

DEFAULT_SCHEDULE_FILE = "schedule.toml"

JOB_KEYS = {
    "kind",
    "description",
    "cron",
    "interval",
    "timezone",
    "enabled",
    "misfire_grace",
    "options",
    "steps",
}
STEP_KEYS = {"kind", "options", "only_if_set"}
SCHEDULER_KEYS = {"site", "timezone", "shutdown_wait", "workers", "misfire_grace"}
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


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


def load_schedule(path: str | Path | None = None, site: str | Path | None = None) -> Schedule:
    """Read and validate a schedule file and the site settings its jobs use.

    The site settings file is, in order: ``site`` (the ``--site`` option), ``[scheduler] site``
    (relative to the schedule file), ``$GOAL17_CONFIG``, ``site.toml`` beside the schedule file,
    else the built-in defaults. Raises :class:`ScheduleError` or ``SettingsError``.
    """
    path = Path(path or DEFAULT_SCHEDULE_FILE)
    document = read_toml_document(path, "schedule file", ScheduleError)
    data = document.data
    reader = _Reader(str(path), document.line_of)
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


class _Reader:
    """Collects every problem in one pass, so an operator fixes the file in one go."""

    def __init__(self, source: str, line_of: Callable[..., int | None] = lambda *keys: None):
        self.source = source
        self.line_of = line_of
        self.problems: list[str] = []

    def bad(self, table: str, key: str, message: str) -> None:
        """``schedule.toml:LINE: error: [jobs.NAME] key: message``, at the key's line (or the
        line of the nearest enclosing key: ``cron`` for ``cron.hour``, ``steps`` for ``steps[2]``)."""
        where = f"{key}: " if key else ""
        keys = [*table.split("."), *(part.split("[")[0] for part in key.split(".") if part)]
        self.problems.append(problem(self.source, self.line_of(*keys), f"[{table}] {where}{message}"))

    def scheduler_table(self, data: dict[str, Any]) -> dict[str, Any]:
        for name in data:
            if name not in ("jobs", "scheduler"):
                self.problems.append(
                    problem(
                        self.source,
                        self.line_of(name),
                        f"[{name}]: unknown table (expected [scheduler] and [jobs.NAME] tables)",
                    )
                )
        table = data.get("scheduler", {})
        if not isinstance(table, dict):
            self.bad("scheduler", "", "expected a table")
            return {}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in SCHEDULER_KEYS:
                self.bad("scheduler", key, f"unknown key (known: {', '.join(sorted(SCHEDULER_KEYS))})")
            elif key in ("site", "timezone") and not isinstance(value, str):
                self.bad("scheduler", key, f"expected a string, got {value!r}")
            elif key == "timezone" and not _zone_ok(value):
                self.bad("scheduler", key, f"unknown time zone {value!r} (use e.g. Europe/Stockholm)")
            elif key in ("shutdown_wait", "misfire_grace"):
                try:
                    values[key] = parse_duration(value)
                except ValueError as exc:
                    self.bad("scheduler", key, str(exc))
                continue
            elif key == "workers" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16
            ):
                self.bad("scheduler", key, f"expected a whole number from 1 to 16, got {value!r}")
            values[key] = value
        return values

    def schedule(self, data: dict[str, Any], scheduler: dict[str, Any], settings: Settings) -> Schedule:
        default_zone = scheduler.get("timezone") or settings.timezone
        default_grace = scheduler.get("misfire_grace", timedelta(minutes=10))
        jobs_table = data.get("jobs")
        jobs: list[JobSpec] = []
        if not isinstance(jobs_table, dict) or not jobs_table:
            self.problems.append(problem(self.source, None, "no jobs: add at least one [jobs.NAME] table"))
        else:
            for name, table in jobs_table.items():
                job = self.job(name, table, default_zone, default_grace)
                if job is not None:
                    jobs.append(job)
        if self.problems:
            raise ScheduleError(self.problems)
        return Schedule(
            source=self.source,
            jobs=tuple(jobs),
            settings=settings,
            shutdown_wait=scheduler.get("shutdown_wait", timedelta(seconds=60)),
            workers=scheduler.get("workers", 2),
        )

    def job(self, name: str, table: Any, default_zone: str, default_grace: timedelta) -> JobSpec | None:
        where = f"jobs.{name}"
        before = len(self.problems)
        if not _JOB_NAME.match(name):
            self.bad(where, "", "job names use letters, digits, - and _ only")
        if not isinstance(table, dict):
            self.bad(where, "", "expected a table")
            return None
        for key in table:
            if key not in JOB_KEYS:
                self.bad(where, key, f"unknown key (known: {', '.join(sorted(JOB_KEYS))})")

        kind = table.get("kind")
        if kind is None:
            self.bad(where, "kind", f"missing (one of: {', '.join(KINDS)})")
        elif kind not in KINDS:
            self.bad(where, "kind", f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")

        zone = table.get("timezone", default_zone)
        if not isinstance(zone, str) or not _zone_ok(zone):
            self.bad(where, "timezone", f"unknown time zone {zone!r} (use e.g. Europe/Stockholm)")
            zone = "UTC"

        trigger = self.trigger(where, table, zone)

        grace = default_grace
        if "misfire_grace" in table:
            try:
                grace = parse_duration(table["misfire_grace"])
            except ValueError as exc:
                self.bad(where, "misfire_grace", str(exc))

        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            self.bad(where, "enabled", f"expected true or false, got {enabled!r}")
        description = table.get("description", "")
        if not isinstance(description, str):
            self.bad(where, "description", f"expected a string, got {description!r}")

        options: dict[str, Any] = {}
        if kind == "pipeline":
            if "options" in table:
                self.bad(
                    where, "options", "a pipeline job has no options of its own; give each step its options"
                )
            options = {"steps": self.steps(where, table.get("steps"))}
        else:
            if "steps" in table:
                self.bad(where, "steps", 'only a job of kind "pipeline" has steps')
            if kind in KINDS:
                options = self.options(where, "options", kind, table.get("options", {}))

        if len(self.problems) > before or trigger is None:
            return None
        return JobSpec(
            name=name,
            kind=kind,
            trigger=trigger,
            misfire_grace=grace,
            enabled=enabled,
            description=description,
            options=options,
        )

    def trigger(self, where: str, table: dict[str, Any], zone: str) -> TriggerSpec | None:
        has_cron, has_interval = "cron" in table, "interval" in table
        if has_cron == has_interval:
            self.bad(where, "cron", 'give exactly one of cron = { … } or interval = "15m"')
            return None
        if has_interval:
            try:
                return TriggerSpec(timezone=zone, interval=parse_duration(table["interval"]))
            except ValueError as exc:
                self.bad(where, "interval", str(exc))
                return None
        cron = table["cron"]
        if not isinstance(cron, dict) or not cron:
            self.bad(
                where,
                "cron",
                f'expected a table of cron fields such as {{ day_of_week = "mon", hour = 8 }}, got {cron!r}',
            )
            return None
        ok = True
        fields: dict[str, int | str] = {}
        for key, value in cron.items():
            if key not in CRON_FIELDS:
                self.bad(where, f"cron.{key}", f"unknown cron field (known: {', '.join(CRON_FIELDS)})")
                ok = False
                continue
            if isinstance(value, bool) or not isinstance(value, int | str):
                self.bad(
                    where, f"cron.{key}", f"expected a number or a cron expression string, got {value!r}"
                )
                ok = False
                continue
            if key == "day_of_week" and re.search(r"\d", str(value)):
                self.bad(
                    where,
                    "cron.day_of_week",
                    f'use day names such as "mon" or "mon-fri", not numbers ({value!r}): crontab counts '
                    "Sunday as 0 but APScheduler 3 counts Monday as 0",
                )
                ok = False
                continue
            try:
                CronTrigger(timezone=zone if _zone_ok(zone) else "UTC", **{key: value})
            except ValueError as exc:
                self.bad(where, f"cron.{key}", f"bad value {value!r}: {exc}")
                ok = False
                continue
            fields[key] = value
        if not ok:
            return None
        spec = TriggerSpec(timezone=zone, cron=fields)
        try:
            trigger = spec.make()
            never = trigger.get_next_fire_time(None, datetime.now(spec.tz)) is None
        except (ValueError, OverflowError) as exc:
            self.bad(where, "cron", f"invalid combination of fields: {exc}")
            return None
        if never:
            self.bad(where, "cron", f"never fires: {spec.describe()}")
            return None
        return spec

    def options(self, where: str, key: str, kind: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.bad(where, key, f'expected a table such as {{ content = "content" }}, got {value!r}')
            return {}
        spec: OptionSpec | None = KINDS[kind].options
        if spec is None:
            return dict(value)  # that kind's function checks its own options when it runs
        options: dict[str, Any] = {}
        for name, option in value.items():
            if name not in spec:
                known = ", ".join(spec) or "none"
                self.bad(where, f"{key}.{name}", f"unknown option for kind {kind!r} (known: {known})")
                continue
            types, _ = spec[name]
            if isinstance(option, bool) and bool not in types or not isinstance(option, types):
                names = " or ".join(t.__name__ for t in types)
                self.bad(where, f"{key}.{name}", f"expected {names}, got {option!r}")
                continue
            allowed = KINDS[kind].choices.get(name)
            if allowed is not None and option not in allowed:
                self.bad(
                    where, f"{key}.{name}", f"must be one of {', '.join(map(str, allowed))}, got {option!r}"
                )
                continue
            options[name] = option
        return options

    def steps(self, where: str, value: Any) -> list[Step]:
        if not isinstance(value, list) or not value:
            self.bad(where, "steps", 'a pipeline job needs steps = [ { kind = "build" }, … ]')
            return []
        steps: list[Step] = []
        for number, item in enumerate(value, start=1):
            key = f"steps[{number}]"
            if not isinstance(item, dict):
                self.bad(where, key, f'expected a table such as {{ kind = "build" }}, got {item!r}')
                continue
            for name in item:
                if name not in STEP_KEYS:
                    self.bad(where, f"{key}.{name}", f"unknown key (known: {', '.join(sorted(STEP_KEYS))})")
            kind = item.get("kind")
            if kind == "pipeline":
                self.bad(where, f"{key}.kind", "a pipeline step cannot itself be a pipeline")
                continue
            if kind not in KINDS:
                choices = ", ".join(k for k in KINDS if k != "pipeline")
                self.bad(where, f"{key}.kind", f"unknown kind {kind!r} (one of: {choices})")
                continue
            condition = item.get("only_if_set")
            if condition is not None and (condition not in SITE_SPEC):
                self.bad(
                    where, f"{key}.only_if_set", f'not a [site] setting: {condition!r} (e.g. "websub_hub")'
                )
                continue
            options = self.options(where, f"{key}.options", kind, item.get("options", {}))
            steps.append(Step(kind=kind, options=options, only_if_set=condition))
        return steps


def _zone_ok(name: Any) -> bool:
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
