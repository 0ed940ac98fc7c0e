"""One scheduler per state folder: an exclusive ``flock`` on ``scheduler.lock``.

Two schedulers sharing a state folder would run every job twice (two newsletters, two sends).
The kernel drops a ``flock`` when its process dies, however it dies (SIGKILL, OOM, power cut of
the process), so there is no stale lock file to clean up by hand: the file's presence means
nothing, only the lock on it does. The holder writes its PID into the file so the refusal can
say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

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
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        """Take the lock without waiting; raise :class:`SchedulerLocked` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise SchedulerLocked(self.path, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
