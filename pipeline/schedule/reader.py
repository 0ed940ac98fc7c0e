"""The rules of ``schedule.toml``: every table and key checked, every problem collected.

Each problem names the file, the job and the key, e.g. ``schedule.toml:12: error: [jobs.weekly]
cron.hour: …``. Cron fields are checked by building APScheduler's own ``CronTrigger`` from them,
so what passes here is exactly what the scheduler accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from pipeline.config.site import SITE_SPEC, Settings
from pipeline.config.tomlfile import problem
from pipeline.schedule.registry import KINDS, OptionSpec, Step
from pipeline.schedule.spec import (
    CRON_FIELDS,
    DEFAULT_FAILOVER,
    JobSpec,
    Schedule,
    ScheduleError,
    TriggerSpec,
    parse_duration,
    zone_ok,
)

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
SCHEDULER_KEYS = {"site", "timezone", "shutdown_wait", "workers", "misfire_grace", "failover"}
# A standby retries every few seconds; below this a brief network hiccup would hand over.
MIN_FAILOVER = timedelta(seconds=3)
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class Reader:
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
            elif key == "timezone" and not zone_ok(value):
                self.bad("scheduler", key, f"unknown time zone {value!r} (use e.g. Europe/Stockholm)")
            elif key in ("shutdown_wait", "misfire_grace", "failover"):
                try:
                    values[key] = parse_duration(value)
                except ValueError as exc:
                    self.bad("scheduler", key, str(exc))
                    continue
                if key == "failover" and values[key] < MIN_FAILOVER:
                    self.bad("scheduler", key, f"must be at least 3s, got {value!r}")
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
            failover=scheduler.get("failover", DEFAULT_FAILOVER),
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
        if not isinstance(zone, str) or not zone_ok(zone):
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
                CronTrigger(timezone=zone if zone_ok(zone) else "UTC", **{key: value})
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


__all__ = ["JOB_KEYS", "SCHEDULER_KEYS", "STEP_KEYS", "Reader"]
