"""File locks: the one way processes on one machine take turns (``flock``).

The kernel drops a ``flock`` when its process dies, however it dies (SIGKILL, OOM), so there is
never a stale lock to clean up by hand: the file's presence means nothing, only the lock on it
does. A holder writes its PID into the file, so a refusal can say who holds it.

Used for: one publisher per output folder (waits), one ``send`` per state folder and one scheduler
per state folder (refuse at once), the WebSub pending list (waits). Shared state across machines is
the database's job (``pipeline.stores``), not a file lock's.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LockBusy(Exception):
    """Another live process holds the lock; ``pid`` is what it wrote (None: not yet written)."""

    def __init__(self, path: Path, pid: int | None):
        super().__init__(f"{path} is held by {f'PID {pid}' if pid else 'another process'}")
        self.path = path
        self.pid = pid


class FileLock:
    """An exclusive ``flock`` on ``path``, held from :meth:`acquire` to :meth:`release`.

    ``wait=False`` raises :class:`LockBusy` at once when another process holds it; ``wait=True``
    blocks until it is free. Creating the lock file can fail (``OSError``): callers turn that into
    their own one-line error.
    """

    def __init__(self, path: str | Path, *, wait: bool = False, record_pid: bool = True):
        self.path = Path(path)
        self.wait = wait
        self.record_pid = record_pid
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = read_pid(fd)
            os.close(fd)
            raise LockBusy(self.path, pid) from None
        except BaseException:
            os.close(fd)
            raise
        if self.record_pid:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            if self.record_pid:
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_pid(fd: int) -> int | None:
    """The PID a holder wrote into the lock file, if any."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


__all__ = ["FileLock", "LockBusy", "read_pid"]
