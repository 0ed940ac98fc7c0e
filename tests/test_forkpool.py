"""The fork pool: results in order from forked workers that collect garbage, errors propagated."""

from __future__ import annotations

import gc
import os

import pytest

from pipeline import forkpool

pytestmark = pytest.mark.skipif(not forkpool.can_fork(1, 0), reason="needs fork in a single-threaded process")


def test_results_come_back_in_order_from_workers_that_collect():
    def probe(index: int) -> tuple[int, int, bool]:
        return index * index, os.getpid(), gc.isenabled()

    results = list(forkpool.map_forked(probe, 400, min_items=0, chunksize=16))
    assert [square for square, _, _ in results] == [i * i for i in range(400)]
    assert os.getpid() not in {pid for _, pid, _ in results}, "the work ran in forked workers"
    assert all(enabled for _, _, enabled in results), "a worker must collect its own garbage"
    assert gc.isenabled()


def test_an_error_in_a_worker_propagates_and_the_next_pool_works():
    def fails(index: int) -> int:
        if index == 250:
            raise ValueError("bad item 250")
        return index

    with pytest.raises(ValueError, match="bad item 250"):
        list(forkpool.map_forked(fails, 300, min_items=0))
    assert gc.isenabled()
    assert list(forkpool.map_forked(lambda index: index, 300, min_items=0)) == list(range(300))


def test_results_larger_than_the_pipe_come_back_whole_and_the_pipe_was_widened():
    import fcntl

    results = list(
        forkpool.map_forked(lambda index: bytes([index % 256]) * 700_000, 24, min_items=0, chunksize=2)
    )
    assert [len(r) for r in results] == [700_000] * 24
    assert all(r == bytes([i % 256]) * 700_000 for i, r in enumerate(results))

    get_size = getattr(fcntl, "F_GETPIPE_SZ", None)
    if get_size is None:
        pytest.skip("no F_GETPIPE_SZ here")
    read, write = os.pipe()
    try:
        forkpool._widen(write)
        assert fcntl.fcntl(read, get_size) >= forkpool.RESULT_PIPE_BYTES
    finally:
        os.close(read)
        os.close(write)


def test_objects_held_frozen_stay_frozen_through_a_pool_until_the_build_ends():
    forkpool.join_background()
    assert gc.get_freeze_count() == 0
    kept = [[index] for index in range(1000)]  # noqa: F841 - frozen below
    forkpool.hold_frozen()
    frozen = gc.get_freeze_count()
    assert frozen >= 1000
    assert list(forkpool.map_forked(lambda index: index, 300, min_items=0)) == list(range(300))
    assert gc.get_freeze_count() >= frozen, "a pool must not hand the held objects back"
    forkpool.join_background()
    assert gc.get_freeze_count() == 0


def test_without_held_objects_a_pool_thaws_what_it_froze():
    forkpool.join_background()
    assert list(forkpool.map_forked(lambda index: index, 300, min_items=0)) == list(range(300))
    assert gc.get_freeze_count() == 0


def test_meanwhile_work_runs_once_in_the_parent_while_the_workers_of_the_next_pool_run():
    ran: list[tuple[str, int, int]] = []
    forkpool.meanwhile("probe", lambda: ran.append(("first", os.getpid(), 0)))
    forkpool.meanwhile("probe", lambda: ran.append(("again", os.getpid(), len(forkpool.workers()))))
    assert list(forkpool.map_forked(lambda index: index, 10, min_items=100)) == list(range(10))
    assert ran == [], "a loop run in-process leaves the work for a pool"
    assert list(forkpool.map_forked(lambda index: index * 2, 300, min_items=0)) == [i * 2 for i in range(300)]
    assert [(label, pid) for label, pid, _ in ran] == [("again", os.getpid())], (
        "one item per name, in the parent"
    )
    assert ran[0][2] >= 1, "the workers were running while the parent did the work"
    list(forkpool.map_forked(lambda index: index, 300, min_items=0))
    assert len(ran) == 1, "done once"


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_worker_killed_mid_pool_fails_the_loop_at_once_and_leaves_no_process():
    import signal
    import time

    parent = os.getpid()

    def dies(index: int) -> int:
        if index == 123 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return index

    started = time.monotonic()
    with pytest.raises(forkpool.WorkerLost, match="killed by signal 9"):
        list(forkpool.map_forked(dies, 5000, min_items=0, chunksize=8))
    assert time.monotonic() - started < 60, "the loss is seen, not waited out"
    assert forkpool.workers() == frozenset() and _no_children_left()
    assert list(forkpool.map_forked(lambda index: index, 300, min_items=0)) == list(range(300))


def test_a_worker_that_exits_quietly_mid_chunk_is_a_lost_worker_too():
    parent = os.getpid()

    def leaves(index: int) -> int:
        if index == 77 and os.getpid() != parent:
            os._exit(0)  # ends "successfully" without sending the chunk it took
        return index

    with pytest.raises(forkpool.WorkerLost):
        list(forkpool.map_forked(leaves, 400, min_items=0, chunksize=4))
    assert forkpool.workers() == frozenset() and _no_children_left()


def test_a_consumer_that_stops_early_leaves_no_worker_behind():
    results = forkpool.map_forked(lambda index: index, 100_000, min_items=0, chunksize=16)
    assert [next(results) for _ in range(40)] == list(range(40))
    results.close()
    assert forkpool.workers() == frozenset() and _no_children_left()
    assert list(forkpool.map_forked(lambda index: -index, 300, min_items=0)) == [-i for i in range(300)]


def test_an_exception_that_cannot_be_pickled_arrives_as_its_text():
    class Local(Exception):  # a class defined in a function cannot be pickled
        pass

    def fails(index: int) -> int:
        if index == 10:
            raise Local("no way back")
        return index

    with pytest.raises(RuntimeError, match="Local: no way back"):
        list(forkpool.map_forked(fails, 300, min_items=0))
    assert _no_children_left()


@pytest.mark.parametrize(
    ("count", "chunksize"), [(1, 1), (2, 1), (3, 64), (64, 64), (65, 64), (1000, 7), (40_000, 1)]
)
def test_every_count_and_chunk_size_gives_every_result_once_in_order(count, chunksize):
    # 40,000 chunks of 1 are more chunk numbers than a default pipe holds: the chunks grow.
    assert list(forkpool.map_forked(lambda index: index * 3, count, min_items=0, chunksize=chunksize)) == [
        i * 3 for i in range(count)
    ]
    assert _no_children_left()
