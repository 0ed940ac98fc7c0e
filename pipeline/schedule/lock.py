"""One scheduler per state folder: an exclusive ``flock`` on ``scheduler.lock``.

Two schedulers sharing a state folder would run every job twice (two newsletters, two sends).
A :class:`~pipeline.stores.locks.FileLock`: the kernel drops it when its process dies, however it
dies, and the holder's PID in the file lets the refusal say who holds it.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.stores.locks import FileLock, LockBusy

LOCK_NAME = "scheduler.lock"


class SchedulerLocked(Exception):
    """Another live process holds the scheduler lock of this state folder."""

    def __init__(self, path: Path, pid: int | None):
        holder = f"PID {pid}" if pid else "another process (PID not yet written)"
        super().__init__(
            f"another scheduler is already running on state folder {path.parent} ({holder} holds {path}); "
            "stop it first, or give this one another state_dir"
        )
        self.path = path
        self.pid = pid


class InstanceLock:
    """Held from :meth:`acquire` until :meth:`release` or the end of the process."""

    def __init__(self, state_dir: str | Path):
        self.path = Path(state_dir) / LOCK_NAME
        self._lock = FileLock(self.path)

    def acquire(self) -> InstanceLock:
        """Take the lock without waiting; raise :class:`SchedulerLocked` naming the holder."""
        try:
            self._lock.acquire()
        except LockBusy as busy:
            raise SchedulerLocked(self.path, busy.pid) from None
        return self

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
