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
import signal
import struct
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
# _widen): 1 MiB is the largest an unprivileged process may ask for by default.
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
    _FUNCTION = function
    thawed = _freeze()
    try:
        yield from _pool(count, max(chunksize, 1))
    finally:
        _FUNCTION = None
        _unfreeze(thawed)
        _LOCK.release()


class WorkerLost(RuntimeError):
    """A worker ended (killed, out of memory) before it sent back the work it had taken."""


_HEADER = struct.Struct("<IQ")  # chunk number, length of its pickled results
_TASK = struct.Struct("<I")
_MAX_TASKS = 16384  # chunk numbers that fit a pipe of 64 KiB, Linux's default: written before forking
_WORKER_PIDS: set[int] = set()  # workers of the pool running now (kill_workers)


def _pool(count: int, chunksize: int) -> Iterator[Any]:
    """The pool: forked workers take chunk numbers from one pipe, each sends results on its own.

    Written for this build rather than :class:`concurrent.futures.ProcessPoolExecutor`, whose
    generality gives the parent a queue-feeding thread, a result thread and a future per chunk
    (py-spy counted about 0.2 s of the parent's time in their hand-offs in a cold 10k build;
    the whole build's CPU moved by less than the machine's noise, but its peak RSS fell from
    320 to 281 MiB, and from 374 to 294 MiB on the structure-dense corpus). Every chunk number
    is in the task pipe before the first fork; a worker reads the next one (a 4-byte read is
    served whole: the pipe only ever holds whole numbers), runs it and writes a frame (number,
    length, pickled results) to its own result pipe; the parent reads whichever pipe has data,
    in this thread, and yields the chunks in order. A worker that raises sends the exception
    instead; one that dies leaves its pipe closed early: :class:`WorkerLost`.
    """
    chunksize = max(chunksize, -(-count // _MAX_TASKS))
    chunks = -(-count // chunksize)
    task_read, task_write = os.pipe()
    try:
        os.write(task_write, b"".join(_TASK.pack(k) for k in range(chunks)))
    finally:
        os.close(task_write)  # the workers see the end of the pipe once it is empty
    readers: dict[int, int] = {}  # result pipe's read end -> the worker's pid
    finished = False
    try:
        for _ in range(min(WORKERS, chunks)):
            result_read, result_write = os.pipe()
            _widen(result_write)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the worker, which reports through its pipe
                code = 1
                try:
                    for fd in readers:
                        os.close(fd)
                    os.close(result_read)
                    code = _work(task_read, result_write, count, chunksize)
                finally:
                    os._exit(code)
            os.close(result_write)
            readers[result_read] = pid
            _WORKER_PIDS.add(pid)
        os.close(task_read)
        task_read = -1
        _run_meanwhile()
        yield from _collect(readers, chunks)
        finished = True
    finally:
        if task_read >= 0:
            os.close(task_read)
        _end(readers, finished)


def _work(tasks: int, results: int, count: int, chunksize: int) -> int:
    """A worker's loop: the next chunk number, its results, until the task pipe is empty."""
    import pickle

    while True:
        taken = os.read(tasks, _TASK.size)
        if not taken:
            return 0
        (chunk,) = _TASK.unpack(taken)
        start = chunk * chunksize
        try:
            done = [_call(index) for index in range(start, min(start + chunksize, count))]
            payload = pickle.dumps((True, done), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
            try:
                payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that cannot travel travels as text
                payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            _send(results, chunk, payload)
            return 1
        _send(results, chunk, payload)


def _send(fd: int, chunk: int, payload: bytes) -> None:
    """One frame: the chunk's number, the payload's length, the payload."""
    for data in (_HEADER.pack(chunk, len(payload)), payload):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


def _collect(readers: dict[int, int], chunks: int) -> Iterator[Any]:
    """Read the workers' frames as they come; yield each chunk's results in chunk order."""
    import pickle
    import selectors

    waiting: dict[int, list[Any]] = {}
    pending = {fd: bytearray() for fd in readers}
    nxt = 0
    with selectors.DefaultSelector() as selector:
        for fd in readers:
            selector.register(fd, selectors.EVENT_READ)
        while nxt < chunks:
            if not pending:
                raise WorkerLost(f"the build's workers ended with {chunks - nxt} of {chunks} chunks not done")
            for key, _ in selector.select():
                fd = key.fd
                data = os.read(fd, RESULT_PIPE_BYTES)
                if not data:  # the worker has gone: after its last chunk, or killed
                    selector.unregister(fd)
                    del pending[fd]
                    _reap(readers[fd])
                    continue
                buffer = pending[fd]
                buffer += data
                while len(buffer) >= _HEADER.size:
                    chunk, length = _HEADER.unpack_from(buffer)
                    if len(buffer) < _HEADER.size + length:
                        break
                    ok, value = pickle.loads(memoryview(buffer)[_HEADER.size : _HEADER.size + length])
                    del buffer[: _HEADER.size + length]
                    if not ok:
                        raise value
                    waiting[chunk] = value
            while nxt in waiting:
                yield from waiting.pop(nxt)
                nxt += 1


def _reap(pid: int) -> None:
    """Wait for a worker whose pipe closed before the last chunk came; :class:`WorkerLost` if it died.

    One that exits cleanly there (it found no chunk left) is fine; one that left its chunk
    undone without failing is caught by :func:`_collect` once every pipe has closed.
    """
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
    _WORKER_PIDS.discard(pid)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        raise WorkerLost(f"a worker process of the build ended before its work was done ({how})")


def _end(readers: dict[int, int], finished: bool) -> None:
    """Close the pipes and wait for the workers.

    After the last chunk a worker only finds the task pipe empty and exits; one still running
    otherwise (an error elsewhere, a consumer that stopped early) is killed first.
    """
    for fd, pid in readers.items():
        with contextlib.suppress(OSError):
            os.close(fd)
        if pid in _WORKER_PIDS:
            if not finished:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            _WORKER_PIDS.discard(pid)


def workers() -> frozenset[int]:
    """The process ids of the workers of the pool running now (none when no pool runs)."""
    return frozenset(_WORKER_PIDS)


def kill_workers() -> None:
    """SIGKILL the workers of a pool that is running now (a process about to ``os._exit``)."""
    for pid in list(_WORKER_PIDS):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


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
    return count >= min_items and WORKERS >= 2 and threading.active_count() == 1 and hasattr(os, "fork")


def _widen(fd: int) -> None:
    """Let a worker's results fill up to :data:`RESULT_PIPE_BYTES` of its pipe back.

    A pipe holds 64 KiB on Linux unless asked otherwise. A chunk of the reading pool's results
    is about 400 KB (64 parsed files), so a worker wrote it in a dozen pieces, each time waiting
    until the parent was scheduled and had read the last: that pool kept 1.3 of the 2 cores
    busy. With 1 MiB a worker writes a chunk and goes on; the pool's wall time at 10,000
    updates went from 0.68–0.78 s to 0.53–0.58 s (``/tmp`` timeline script, alternating runs).
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):  # e.g. over /proc/sys/fs/pipe-max-size
            fcntl.fcntl(fd, set_size, RESULT_PIPE_BYTES)


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
