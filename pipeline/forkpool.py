"""Spreading a CPU-bound loop over both cores with forked workers.

The build's heavy loops (sanitizing rendered updates, making pages and feeds) work on large
in-memory data: updates, templates, closures. Forked workers inherit all of it, so only an index
goes to a worker and a small result comes back; nothing big is pickled. ``gc.freeze()`` before
forking keeps each worker's garbage collector from walking, and so copying page by page, the
parent's whole heap. Below ``min_items`` the loop runs in-process: starting workers costs more.

Everything runs in-process where ``fork`` does not exist, and whenever other threads are running
(the scheduler runs jobs in threads): forking a threaded process can copy a lock some other
thread holds, and two builds at once would share the one inherited function.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

R = TypeVar("R")

WORKERS = 2
_FUNCTION: Callable[[int], Any] | None = None  # inherited by the forked workers
_LOCK = threading.Lock()  # one pool at a time; a nested or concurrent loop runs in-process


def map_forked(
    function: Callable[[int], R], count: int, min_items: int = 200, chunksize: int = 64
) -> Iterator[R]:
    """Yield ``function(i)`` for ``i`` in ``range(count)``, in order; exceptions propagate."""
    global _FUNCTION
    if not can_fork(count, min_items) or not _LOCK.acquire(blocking=False):
        for index in range(count):
            yield function(index)
        return
    import concurrent.futures  # with multiprocessing, 12 ms to import: only when a pool starts
    import multiprocessing

    _FUNCTION = function
    thawed = _freeze()
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
            yield from pool.map(_call, range(count), chunksize=chunksize)
    finally:
        _FUNCTION = None
        _unfreeze(thawed)
        _LOCK.release()


def can_fork(count: int, min_items: int) -> bool:
    """Is a forked pool both worth it and safe here?"""
    if count < min_items or WORKERS < 2 or threading.active_count() != 1:
        return False
    import multiprocessing  # 8 ms to import: only once a pool would be worth it

    return "fork" in multiprocessing.get_all_start_methods()


def _freeze() -> bool:
    """``gc.freeze()``; True when nothing was frozen before (so :func:`_unfreeze` may thaw all).

    The caches freeze what they load for the whole build (:mod:`pipeline.caching.content_cache`,
    :mod:`pipeline.caching.shard_store`); a fork in the middle of the build must not hand those
    objects back to the collector, which would then walk them all in its next full collection
    (0.12 s at 10,000 updates).
    """
    thawed = gc.get_freeze_count() == 0
    gc.freeze()
    return thawed


def _unfreeze(thawed: bool) -> None:
    if thawed:
        gc.unfreeze()


def _call(index: int) -> Any:
    assert _FUNCTION is not None
    return _FUNCTION(index)


_BACKGROUND: set[int] = set()  # pids of forked children not yet joined


def in_background(function: Callable[[], None]) -> int | None:
    """Run ``function`` in a forked child while the caller goes on; in-process when unsafe.

    For work whose result only matters to a later run (writing a cache): the child gets a
    copy-on-write snapshot of memory, does its writes and exits without running the parent's
    exit handlers. Returns the child's pid for :func:`join` (None when it ran in-process);
    :func:`join_background` waits for every such child.
    """
    if not can_fork(1, 0):
        function()
        return None
    thawed = _freeze()  # the child never collects: its garbage collector would copy the whole heap
    try:
        pid = os.fork()
    finally:
        _unfreeze(thawed)
    if pid == 0:  # pragma: no cover - runs in the child, which reports only by its exit status
        status = 1
        try:
            gc.disable()
            function()
            status = 0
        finally:
            os._exit(status)
    _BACKGROUND.add(pid)
    return pid


def join(pid: int | None) -> bool:
    """Wait for one background child (None: nothing to wait for); False if it failed."""
    if pid is None or pid not in _BACKGROUND:
        return True
    _BACKGROUND.discard(pid)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return True
    return os.waitstatus_to_exitcode(status) == 0


@atexit.register
def join_background() -> bool:
    """Wait for every background child; False if any of them failed.

    Called when a build ends, so it also hands the objects frozen while loading the caches
    (:mod:`pipeline.caching.content_cache`, :mod:`pipeline.caching.shard_store`) back to the garbage collector: a long-running process
    (the scheduler) must not keep frozen whatever cyclic garbage existed when they were loaded.
    """
    ok = True
    for pid in sorted(_BACKGROUND):
        ok = join(pid) and ok
    gc.unfreeze()
    return ok
