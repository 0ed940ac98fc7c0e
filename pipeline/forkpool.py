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
import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows, where nothing forks anyway
    fcntl = None  # type: ignore[assignment]

R = TypeVar("R")

WORKERS = 2
_FUNCTION: Callable[[int], Any] | None = None  # inherited by the forked workers
_LOCK = threading.Lock()  # one pool at a time; a nested or concurrent loop runs in-process
_HELD = False  # objects are frozen until the build ends (hold_frozen); join_background thaws them
# What a worker's results may fill of the pipe back before it waits for the parent (see
# _widen_results): 1 MiB is the largest an unprivileged process may ask for by default.
RESULT_PIPE_BYTES = 1 << 20
_MEANWHILE: dict[str, Callable[[], object]] = {}  # work for the parent while the next pool runs


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
            _widen_results(pool)
            results = pool.map(_call, range(count), chunksize=chunksize)  # the workers start here
            _run_meanwhile()
            yield from results
    finally:
        _FUNCTION = None
        _unfreeze(thawed)
        _LOCK.release()


def meanwhile(name: str, work: Callable[[], object]) -> None:
    """Have the parent run ``work`` while the next forked pool's workers run, if one does.

    For work the build will need later anyway and that needs nothing the pool makes (importing
    the output builders: ≈ 0.05 s at the start of the serial stretch after the render pool).
    While the reading pool runs, the parent only collects results and a core has time to
    spare. Only a warm-up: nothing may depend on it having run, since a build that forks no
    pool (a few files, other threads running) never runs it. Work is kept by ``name``, so a
    process whose builds never fork holds one item per name, not one per build.
    """
    _MEANWHILE[name] = work


def _run_meanwhile() -> None:
    while _MEANWHILE:
        _MEANWHILE.pop(next(iter(_MEANWHILE)))()


def can_fork(count: int, min_items: int) -> bool:
    """Is a forked pool both worth it and safe here?"""
    if count < min_items or WORKERS < 2 or threading.active_count() != 1:
        return False
    import multiprocessing  # 8 ms to import: only once a pool would be worth it

    return "fork" in multiprocessing.get_all_start_methods()


def _widen_results(pool: Any) -> None:
    """Let each worker's results fill up to :data:`RESULT_PIPE_BYTES` of the pipe back.

    Results travel through one pipe, 64 KiB on Linux unless asked otherwise, which the
    parent's result thread drains. A chunk of the reading pool's results is about 400 KB (64
    parsed files), so a worker wrote it in a dozen pieces, each time waiting until the parent
    was scheduled and had read the last: that pool kept 1.3 of the 2 cores busy. With 1 MiB
    a worker writes a chunk and goes on; the pool's wall time at 10,000 updates went from
    0.68–0.78 s to 0.53–0.58 s (``/tmp`` timeline script, alternating runs). It relies on the
    executor's private result queue, so it is only tried: anywhere else nothing changes.
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if set_size is None or writer is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):  # e.g. over pipe-max-size
        fcntl.fcntl(writer.fileno(), set_size, RESULT_PIPE_BYTES)


def hold_frozen() -> None:
    """Exempt every object that exists now from the cyclic collector until the build ends.

    For the caches, whose loaded entries are many small objects that live until the build ends
    and hold no cycles (:mod:`pipeline.caching.content_cache`, :mod:`pipeline.caching.shard_store`
    say what collecting them cost). Only a single-threaded process (a command) freezes: in the
    scheduler or a server, where jobs run in threads, whatever cyclic garbage existed at that
    moment would stay frozen until the next site build. :func:`join_background` thaws them.
    """
    global _HELD
    if threading.active_count() == 1:
        gc.freeze()
        _HELD = True


def _freeze() -> bool:
    """``gc.freeze()``; True when nothing was held frozen before (so :func:`_unfreeze` may thaw all).

    The caches freeze what they load for the whole build (:func:`hold_frozen`); a fork in the
    middle of the build must not hand those objects back to the collector, which would then
    walk them all in its next full collection (0.12 s at 10,000 updates). The flag, not
    ``gc.get_freeze_count()``, says so: that count walks the whole frozen list (9 ms each time
    at 10,000 updates, twice per pool and once per background writer).
    """
    thawed = not _HELD
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
    global _HELD
    ok = True
    for pid in sorted(_BACKGROUND):
        ok = join(pid) and ok
    gc.unfreeze()
    _HELD = False
    return ok
