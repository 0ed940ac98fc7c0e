"""The scheduler service: APScheduler 3.x in the background, our own main loop in front.

Why a ``BackgroundScheduler`` and not ``BlockingScheduler``: the main thread must stay free to
handle SIGTERM/SIGINT the way an operator expects — stop firing new runs, let a running job
finish for at most ``shutdown_wait``, record what happened, and exit 0. APScheduler's own
``shutdown(wait=True)`` would wait forever for a hung job.

Resilience comes from APScheduler's per-job settings plus what it cannot know by itself:

- ``max_instances=1`` and ``coalesce=True``: a job never overlaps itself, and a backlog of fire
  times collapses into one run;
- ``misfire_grace_time``: a run that could not start within the grace time is skipped (and
  logged and recorded as ``missed``);
- each job's last fire time is stored in the state database, so after downtime the missed runs
  are planned by :mod:`pipeline.schedule.catchup` (the in-memory job store forgets them);
- one active scheduler: a flock on the state folder with SQLite (:mod:`pipeline.schedule.lock`),
  a PostgreSQL advisory lock among replicas, the others waiting as standbys
  (:mod:`pipeline.schedule.failover`). A lost lock stops running jobs at once and exits 75, for
  the supervisor to restart the process as a standby.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from datetime import datetime
from types import FrameType

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline import forkpool
from pipeline.schedule.catchup import CatchUp, plan_job
from pipeline.schedule.config import JobSpec, Schedule, format_duration, local_time
from pipeline.schedule.execution import execute
from pipeline.schedule.fire_times import FireTimeExecutor
from pipeline.schedule.history import open_history
from pipeline.schedule.lock import open_scheduler_lock
from pipeline.schedule.logs import log
from pipeline.schedule.registry import unavailable_kinds
from pipeline.stores.protocols import RunHistory, SchedulerLock

NOT_STARTED = "not started: the scheduler is stopping"
LOCK_LOST_EXIT = 75  # EX_TEMPFAIL: restart me (as a standby)


def _end_worker_processes() -> None:
    """Kill the worker processes of interrupted jobs (e.g. the build's render and publish pools)
    before ``os._exit``: forked workers outlive their parent and go on with their chunk (job
    processes with their whole job) until they next write. SIGKILL, because a forked worker
    inherited this process's SIGTERM handler and would only note the signal. Their work is
    staged, never published."""
    forkpool.kill_workers()  # a pool's workers, should a job have forked one
    children = multiprocessing.active_children()
    for child in children:
        child.kill()
    for child in children:
        child.join(timeout=2)


class SchedulerService:
    """Runs a validated :class:`Schedule` until SIGTERM/SIGINT; see the module docstring."""

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.settings = schedule.settings
        self.jobs: dict[str, JobSpec] = {job.name: job for job in schedule.enabled_jobs}
        self.history: RunHistory | None = None
        self._guard = threading.Lock()
        self._stopping = False
        self._active: dict[str, int | None] = {}  # job name -> run id, while running
        self._finished_runs: dict[str, int] = {}  # job name -> run id, until its event is handled
        self._catch_up: set[str] = set()
        # Set by signal handlers, so plain attributes: a handler must not take a lock the
        # interrupted main thread may hold (Event.set() there can deadlock against Event.wait()).
        self._signals: list[str] = []

    # -- the main loop ------------------------------------------------------------------------

    def run(self) -> int:
        """Take the lock (waiting as a standby with PostgreSQL), plan missed runs, run until
        signalled; returns the exit code (0)."""
        self.history = open_history(self.settings)  # a schema problem stops the start, not a job
        lock = open_scheduler_lock(self.settings, self.schedule.failover)
        self._install_signal_handlers()
        try:
            if not lock.acquire(lambda: bool(self._signals)):  # raises SchedulerLocked (SQLite)
                log.info("%s received while standby: stopping", self._signals[0])
                return 0
            return self._run_locked(lock)
        finally:
            lock.release()

    def _run_locked(self, lock: SchedulerLock) -> int:
        assert self.history is not None
        closed = self.history.close_abandoned()
        if closed:
            log.warning("%d run(s) left 'running' by a process that ended are now marked interrupted", closed)
        kinds = set().union(*(job.kinds() for job in self.jobs.values()))
        for reason in unavailable_kinds(kinds).values():
            log.warning("%s; jobs using it will fail until it is", reason)

        self._executor = FireTimeExecutor(max_workers=self.schedule.workers)
        scheduler = BackgroundScheduler(
            timezone=self.settings.tz,
            executors={"default": self._executor},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        now = datetime.now(self.settings.tz)
        for job in self.jobs.values():
            self._add(scheduler, job, now)

        scheduler.start()
        log.info(
            "scheduler started: PID %d, state %s, %d job(s) from %s",
            os.getpid(),
            self._state_name(),
            len(self.jobs),
            self.schedule.source,
        )
        for job in scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, local_time(job.next_run_time, job.trigger.timezone))
        while not self._signals:
            if lock.lost is not None:
                self._lost(scheduler, lock.lost)
            time.sleep(0.1)
        log.info("%s received: no new runs; stopping", self._signals[0])
        return self._shut_down(scheduler, lock)

    def _state_name(self) -> str:
        state = self.settings.state
        return state.display_url if state.backend != "sqlite" else str(self.settings.state_dir.resolve())

    def _lost(self, scheduler: BackgroundScheduler, reason: str) -> None:
        """The lock is gone, so another scheduler may be active: stop every job now, and exit.

        Waiting for running jobs would let two schedulers run them; their work is staged or
        resumable (publishing is atomic, the send log resumes), so ending them is safe. The rows
        left ``running`` are closed as interrupted by the next active scheduler.
        """
        with self._guard:
            self._stopping = True
            running = sorted(self._active)
        log.error(
            "lost the scheduler lock: %s; stopping at once%s",
            reason,
            f" (interrupting {', '.join(running)})" if running else "",
        )
        scheduler.shutdown(wait=False)
        _end_worker_processes()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(LOCK_LOST_EXIT)

    def _add(self, scheduler: BackgroundScheduler, job: JobSpec, now: datetime) -> None:
        assert self.history is not None
        trigger = job.trigger.make(now)
        planned = plan_job(
            trigger, job.trigger.describe(), self.history.last_fire(job.name), now, job.misfire_grace
        )
        if planned.changed_from is not None:
            log.info(
                "job %s: schedule changed (was %s), no catch-up of earlier runs",
                job.name,
                planned.changed_from,
            )
        warning = planned.clock_warning()
        if warning is not None:
            log.warning("job %s: %s", job.name, warning)
            self.history.record_warning(job.name, job.kind, now, warning)
            self.history.clamp_last_fire(job.name, now)
        plan = planned.catch_up
        self._report_catch_up(job, plan)
        if plan.next_run_time is None:
            log.warning("job %s: its trigger will never fire again; not scheduled", job.name)
            return
        scheduler.add_job(
            self._fire,
            trigger=trigger,
            args=(job.name,),
            id=job.name,
            name=job.name,
            misfire_grace_time=max(1, int(job.misfire_grace.total_seconds())),
            coalesce=True,
            max_instances=1,
            next_run_time=plan.next_run_time,
        )

    def _report_catch_up(self, job: JobSpec, plan: CatchUp) -> None:
        assert self.history is not None
        zone = job.trigger.tz
        grace = format_duration(job.misfire_grace)
        if plan.skipped:
            assert plan.skipped_first is not None and plan.skipped_last is not None
            count = f"{plan.skipped}" if plan.counted_all else f"more than {plan.skipped}"
            span = local_time(plan.skipped_first, zone)
            if plan.skipped_last != plan.skipped_first:
                span += f" … {local_time(plan.skipped_last, zone)}"
            reason = "older than" if plan.run_at is None else "superseded by a later run within"
            summary = f"{count} run(s) missed while the scheduler was stopped ({span}), {reason} the grace time {grace}: skipped"
            log.warning("job %s: %s", job.name, summary)
            self.history.record_skip(
                job.name, job.kind, "missed", plan.skipped_last, summary, trigger="catch-up"
            )
            self.history.set_last_fire(job.name, job.trigger.describe(), plan.skipped_last)
        if plan.run_at is not None:
            log.info(
                "job %s: run due %s was missed while the scheduler was stopped; within the grace time %s, it runs now",
                job.name,
                local_time(plan.run_at, zone),
                grace,
            )
            self._catch_up.add(job.name)

    # -- jobs and events (called from APScheduler's threads) ----------------------------------

    def _fire(self, name: str) -> str:
        """The function APScheduler calls: the same :func:`execute` as ``python -m pipeline run``."""
        assert self.history is not None
        with self._guard:
            if self._stopping:
                log.info("job %s: %s", name, NOT_STARTED)
                return NOT_STARTED
            self._active[name] = None
        trigger = "catch-up" if name in self._catch_up else "schedule"
        self._catch_up.discard(name)

        def started(run_id: int) -> None:
            with self._guard:
                self._active[name] = run_id

        job = self.jobs[name]
        due = self._executor.due(name)
        try:
            # The fire time is recorded as dealt with in the same transaction that finishes the
            # run: a scheduler killed right after a run cannot leave it for a standby to run again.
            result = execute(
                job,
                self.settings,
                self.history,
                trigger,
                scheduled_for=due,
                on_start=started,
                record_fire=job.trigger.describe() if due is not None else None,
            )
            return result.summary
        finally:
            with self._guard:
                run_id = self._active.pop(name, None)
                if run_id is not None:
                    self._finished_runs[name] = run_id

    def _on_event(self, event: JobExecutionEvent | JobSubmissionEvent) -> None:
        assert self.history is not None
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        described = job.trigger.describe()
        try:
            if event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR):
                with self._guard:
                    run_id = self._finished_runs.pop(job.name, None)
                if getattr(event, "retval", None) == NOT_STARTED:
                    return  # not dealt with: a restarted scheduler may still catch it up
                if run_id is not None:
                    self.history.set_scheduled_for(run_id, event.scheduled_run_time)
                self.history.set_last_fire(job.name, described, event.scheduled_run_time)
            elif event.code == EVENT_JOB_MISSED:
                late = datetime.now(event.scheduled_run_time.tzinfo) - event.scheduled_run_time
                summary = (
                    f"could not start within the grace time {format_duration(job.misfire_grace)} "
                    f"(late by {late.total_seconds():.0f} s): skipped"
                )
                log.warning(
                    "job %s: run due %s %s",
                    job.name,
                    local_time(event.scheduled_run_time, job.trigger.tz),
                    summary,
                )
                self.history.record_skip(job.name, job.kind, "missed", event.scheduled_run_time, summary)
                self.history.set_last_fire(job.name, described, event.scheduled_run_time)
            elif event.code == EVENT_JOB_MAX_INSTANCES:
                due = max(event.scheduled_run_times)
                summary = "the previous run was still going: skipped (a job never overlaps itself)"
                log.warning("job %s: run due %s %s", job.name, local_time(due, job.trigger.tz), summary)
                self.history.record_skip(job.name, job.kind, "skipped", due, summary)
                self.history.set_last_fire(job.name, described, due)
        except Exception:
            log.exception("job %s: could not record event %s in the run history", job.name, event.code)

    # -- stopping -------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signal.Signals(signum).name)  # the main loop notices and logs it

    def request_stop(self) -> None:
        """Stop as a signal would (for embedding the service in another program)."""
        self._signals.append("stop request")

    def _shut_down(self, scheduler: BackgroundScheduler, lock: SchedulerLock) -> int:
        assert self.history is not None
        with self._guard:
            self._stopping = True
        scheduler.shutdown(wait=False)
        wait = self.schedule.shutdown_wait.total_seconds()
        deadline = time.monotonic() + wait
        announced = False
        while True:
            with self._guard:
                running = dict(self._active)
            if not running:
                break
            if not announced:
                log.info(
                    "waiting up to %s for running job(s) to finish: %s",
                    format_duration(self.schedule.shutdown_wait),
                    ", ".join(sorted(running)),
                )
                announced = True
            forced = len(self._signals) > 1
            if time.monotonic() >= deadline or forced:
                if forced:
                    log.warning("%s received again: not waiting for running jobs", self._signals[-1])
                for name, run_id in sorted(running.items()):
                    if run_id is not None:
                        self.history.mark_interrupted(
                            run_id, f"the scheduler stopped before the job finished (waited {wait:.0f} s)"
                        )
                    log.warning("job %s: still running; interrupted by the stop", name)
                log.info("scheduler stopped (%d job(s) interrupted)", len(running))
                _end_worker_processes()
                lock.release()
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                # Job threads cannot be killed and the interpreter would wait for them at exit;
                # publishing is atomic and the send log resumes, so ending the process is safe.
                os._exit(0)
            time.sleep(0.05)
        log.info("scheduler stopped")
        return 0
