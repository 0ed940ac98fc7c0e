"""Job kinds → job functions, the one table the scheduler and ``python -m pipeline run`` share.

A job function has the signature ``fn(settings, options) -> str``: it does the work, returns a
one-line summary and raises on failure. Kinds owned by other features are named by dotted path
and imported only when a job of that kind runs, so a schedule can be validated (and other jobs
can run) before, or without, that feature's code. Kind names and the options of the kinds defined
here are checked statically, when ``schedule.toml`` is loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.config.site import Settings
from pipeline.delivery.transports import transport_names

JobFunction = Callable[[Settings, dict[str, Any]], str]


class JobDeferred(Exception):
    """A job did part of its work and scheduled the rest (e.g. a send with readers deferred for
    retry): recorded as ``deferred`` with this summary — not a plain success, not a failure."""

    def __init__(self, summary: str):
        super().__init__(summary)
        self.summary = summary


# option name -> (accepted types, default)
OptionSpec = Mapping[str, tuple[tuple[type, ...], Any]]

BUILD_OPTIONS: OptionSpec = {
    "content": ((str,), "content"),
    "out": ((str,), "outputs"),
}

# The options of the kinds whose code lives elsewhere, declared here so that a typo in
# schedule.toml (``transprot = "smtp"``) is an error when the schedule is loaded, not an option
# silently ignored at 08:00 on Monday. Keep in step with pipeline/newsletter/jobs.py and
# pipeline/websub.py:ping_job.
NEWSLETTER_OPTIONS: OptionSpec = {
    "content": ((str,), "content"),
    "out": ((str,), "outputs"),
    "force": ((bool,), False),
    "now": ((str,), None),
}
SEND_OPTIONS: OptionSpec = {
    "issue": ((int,), None),
    "transport": ((str,), None),
    "rate": ((int, float), None),
    "now": ((str,), None),
    "retries_only": ((bool,), False),
}
PING_OPTIONS: OptionSpec = {
    "hub": ((str,), None),
    "timeout": ((int, float), None),
}


def build_job(settings: Settings, options: dict[str, Any]) -> str:
    """Build and publish the site with the clock read now, at run time.

    Reading the clock here (not when the schedule was made) is what makes scheduled publishing
    work: an update dated in the future is left out until the first build after its time.
    """
    from pipeline.publishing.site_build import run_build  # the build pulls in templates; import on first use

    content = options.get("content", BUILD_OPTIONS["content"][1])
    out = options.get("out", BUILD_OPTIONS["out"][1])
    now = datetime.now(settings.tz)
    outcome = run_build(content, out, settings, now)
    read, report = outcome.summary, outcome.report
    summary = (
        f"built {read.updates} updates into {out}/ ({len(report.written)} written, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged)"
    )
    if outcome.skipped:
        summary = f"built {read.updates} updates into {out}/ (nothing changed)"
    if read.scheduled:
        due, source = read.scheduled[0]
        summary += f"; {len(read.scheduled)} scheduled, next {source} at {due}"
    if read.warnings:
        summary += f"; {len(read.warnings)} warning(s)"
    return summary


@dataclass(frozen=True)
class Step:
    """One step of a ``pipeline`` job: a kind, its options, and an optional condition."""

    kind: str
    options: Mapping[str, Any]
    only_if_set: str | None = None  # a [site] setting that must be non-empty, e.g. websub_hub


class StepFailed(Exception):
    """A step of a ``pipeline`` job raised; the steps after it did not run."""


def run_pipeline(settings: Settings, steps: Sequence[Step]) -> str:
    """Run steps in order and stop at the first failure (send must never follow a failed build).

    A deferred step (:class:`JobDeferred`) is not a failure: the steps after it run, and the whole
    job is then recorded as deferred."""
    done: list[str] = []
    deferred = False
    for number, step in enumerate(steps, start=1):
        if step.only_if_set and not getattr(settings, step.only_if_set):
            done.append(f"{step.kind}: skipped ({step.only_if_set} not set)")
            continue
        try:
            summary = run_kind(step.kind, settings, dict(step.options))
        except JobDeferred as exc:
            done.append(f"{step.kind}: deferred: {exc.summary}")
            deferred = True
            continue
        except Exception as exc:
            before = f" after {'; '.join(done)}" if done else ""
            raise StepFailed(
                f"step {number} of {len(steps)} ({step.kind}) failed{before}: {type(exc).__name__}: {exc}"
            ) from exc
        done.append(f"{step.kind}: {summary}")
    if deferred:
        raise JobDeferred("; ".join(done))
    return "; ".join(done)


def pipeline_job(settings: Settings, options: dict[str, Any]) -> str:
    """The ``pipeline`` kind: ``options["steps"]`` is a list of :class:`Step`."""
    return run_pipeline(settings, options["steps"])


@dataclass(frozen=True)
class Kind:
    name: str
    target: JobFunction | str  # a function, or "module:function" imported when first run
    options: OptionSpec | None  # None: the function validates its own options
    help: str
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # option -> allowed values
    # "module:function(settings)" that validate the site settings this kind reads (raise
    # SettingsError), so the scheduler can refuse to start instead of failing at the first run.
    settings_checks: tuple[str, ...] = ()

    def function(self) -> JobFunction:
        if callable(self.target):
            return self.target
        module_name, _, attr = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise KindUnavailable(
                f"job kind {self.name!r} is not available: {module_name} is not installed ({exc})"
            ) from exc
        function = getattr(module, attr, None)
        if not callable(function):
            raise KindUnavailable(f"job kind {self.name!r} is not available: {self.target} not found")
        return function


class KindUnavailable(Exception):
    """The code behind a job kind cannot be imported (e.g. that feature is not installed)."""


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("build", build_job, BUILD_OPTIONS, "build and publish pages, feeds and snippets"),
        Kind(
            "newsletter",
            "pipeline.schedule.newsletter_jobs:newsletter_job",
            NEWSLETTER_OPTIONS,
            "build the newsletter issue",
            settings_checks=("pipeline.config.mail:newsletter_config",),
        ),
        Kind(
            "send",
            "pipeline.schedule.newsletter_jobs:send_job",
            SEND_OPTIONS,
            "send the newsletter to subscribers",
            choices={"transport": transport_names()},
            settings_checks=(
                "pipeline.config.mail:newsletter_config",
                "pipeline.config.mail:smtp_config",
            ),
        ),
        Kind(
            "ping",
            "pipeline.publishing.websub:ping_job",
            PING_OPTIONS,
            "tell the WebSub hub which feeds changed",
        ),
        Kind(
            "check",
            "pipeline.schedule.check_job:check_job",
            {"content": ((str,), "content")},
            "validate the content",
        ),
        Kind("pipeline", pipeline_job, None, "run several steps in order, stopping at the first failure"),
    )
}


def run_kind(kind: str, settings: Settings, options: dict[str, Any]) -> str:
    """Run one job function and return its summary; every caller goes through here."""
    summary = KINDS[kind].function()(settings, options)
    return str(summary) if summary is not None else "done"


def settings_problems(kinds: set[str], settings: Settings) -> list[str]:
    """What is wrong in the site settings tables that jobs of these kinds read (e.g. a typo in
    ``[newsletter]``), each problem once; kinds whose code is not installed are not checked."""
    from pipeline.config.site import SettingsError

    problems: list[str] = []
    checks = dict.fromkeys(check for name in sorted(kinds) for check in KINDS[name].settings_checks)
    for check in checks:
        module_name, _, attr = check.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), attr)
        except (ModuleNotFoundError, AttributeError):
            continue  # reported as an unavailable kind
        try:
            function(settings)
        except SettingsError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    return problems


def unavailable_kinds(kinds: set[str]) -> dict[str, str]:
    """Kinds among ``kinds`` whose code cannot be imported now, with the reason (for a warning)."""
    missing = {}
    for name in sorted(kinds):
        try:
            KINDS[name].function()
        except KindUnavailable as exc:
            missing[name] = str(exc)
    return missing
