"""Which fire time a job function is running for: APScheduler 3 does not tell the function.

The scheduler records a fire time as dealt with in the same transaction that finishes its run
(so a scheduler killed right after a run never leaves that fire time for a standby or a restart
to run again), so the job thread must know the fire time. APScheduler passes it to its executor
only; this executor notes it, per job, just before the job is handed to a worker thread. A job
never overlaps itself (``max_instances=1``) and backlogs coalesce into one run, so one fire time
per job is all there is to keep.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor


class FireTimeExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool executor that remembers each job's current fire time."""

    def __init__(self, max_workers: int):
        super().__init__(max_workers=max_workers)
        self._due: dict[str, datetime] = {}
        self._guard = threading.Lock()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        with self._guard:
            self._due[job.id] = run_times[-1]
        super()._do_submit_job(job, run_times)

    def due(self, job_id: str) -> datetime | None:
        """The fire time the job's running call is for (None when called outside the scheduler)."""
        with self._guard:
            return self._due.pop(job_id, None)


__all__ = ["FireTimeExecutor"]
