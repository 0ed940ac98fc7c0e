"""Running one job: the single path both the scheduler and ``python -m pipeline run`` take.

It records the run in the history before starting (so a crash leaves a ``running`` row that the
next scheduler closes as ``interrupted``), calls the job function through the registry, and logs
one line with job, start, end, duration and outcome; a failure is logged with its traceback and
re-raised, so the caller (APScheduler, or the ``run`` command) sees it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from time import monotonic

from pipeline.config.site import Settings
from pipeline.schedule.config import JobSpec
from pipeline.schedule.registry import JobDeferred, run_kind
from pipeline.stores.protocols import RunHistory

log = logging.getLogger("pipeline.schedule")


@dataclass(frozen=True)
class RunResult:
    run_id: int
    job: str
    outcome: str  # success | deferred | failed
    summary: str
    started: datetime
    finished: datetime

    @property
    def duration(self) -> float:
        return (self.finished - self.started).total_seconds()


class JobFailed(Exception):
    """A job raised; ``result`` is what was recorded, ``__cause__`` the original error."""

    def __init__(self, result: RunResult):
        super().__init__(result.summary)
        self.result = result


def execute(
    job: JobSpec,
    settings: Settings,
    history: RunHistory,
    trigger: str,
    scheduled_for: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    record_fire: str | None = None,
) -> RunResult:
    """Run ``job`` now; return its result or raise :class:`JobFailed` (chained to the error).

    With ``record_fire`` (the trigger's description), ``scheduled_for`` becomes the job's last fire
    time in the same transaction that records the outcome (see :mod:`pipeline.schedule.fire_times`).
    """
    fire = (record_fire, scheduled_for) if record_fire is not None and scheduled_for is not None else None
    run_id = history.start(job.name, job.kind, trigger, scheduled_for)
    if on_start is not None:
        on_start(run_id)
    # The scheduler's runs keep their "[schedule]" line (their fire time is in its "next run" line).
    due = f", due {_clock(scheduled_for, settings)}" if scheduled_for and fire is None else ""
    log.info("job %s (%s): started [%s%s]", job.name, job.kind, trigger, due)
    started, clock = datetime.now(settings.tz), monotonic()
    try:
        # A fresh copy per run: its tables and context digest are resolved once for this run, so
        # templates edited while the service runs count from the next job on.
        summary = run_kind(job.kind, replace(settings), job.call_options())
    except JobDeferred as deferred:  # part done, the rest scheduled (a send with readers deferred)
        finished = started + _elapsed(clock)
        history.finish(run_id, "deferred", started, finished, summary=deferred.summary, last_fire=fire)
        result = RunResult(run_id, job.name, "deferred", deferred.summary, started, finished)
        log.warning("%s", _line(result, settings))
        return result
    except Exception as exc:
        finished = started + _elapsed(clock)
        message = f"{type(exc).__name__}: {exc}"
        details = _problems(exc)
        trace = traceback.format_exc()
        history.finish(
            run_id,
            "failed",
            started,
            finished,
            summary=message,
            error="".join(details) + trace,
            last_fire=fire,
        )
        result = RunResult(run_id, job.name, "failed", message, started, finished)
        log.error("%s\n%s%s", _line(result, settings), "".join(details), trace.rstrip())
        raise JobFailed(result) from exc
    finished = started + _elapsed(clock)
    history.finish(run_id, "success", started, finished, summary=summary, last_fire=fire)
    result = RunResult(run_id, job.name, "success", summary, started, finished)
    log.info("%s", _line(result, settings))
    return result


def _elapsed(clock: float) -> timedelta:
    return timedelta(seconds=monotonic() - clock)


def _line(result: RunResult, settings: Settings) -> str:
    return (
        f"job {result.job}: {result.outcome} in {result.duration:.2f} s "
        f"(start {_clock(result.started, settings)}, end {_clock(result.finished, settings)}): {result.summary}"
    )


def _clock(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).isoformat(timespec="milliseconds")


def _problems(exc: BaseException) -> list[str]:
    """Errors that carry a list of problems (bad content, bad settings) show each one."""
    seen: BaseException | None = exc
    while seen is not None:
        problems = getattr(seen, "problems", None)
        if problems:
            return [f"  {problem}\n" for problem in problems]
        seen = seen.__cause__
    return []
