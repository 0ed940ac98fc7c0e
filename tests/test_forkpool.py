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
    import concurrent.futures
    import fcntl
    import multiprocessing

    results = list(forkpool.map_forked(lambda index: bytes([index % 256]) * 700_000, 24, min_items=0, chunksize=2))
    assert [len(r) for r in results] == [700_000] * 24
    assert all(r == bytes([i % 256]) * 700_000 for i, r in enumerate(results))

    # The widening leans on the executor's private result queue: if a Python release renames
    # it, this says so instead of the build quietly losing the speed.
    get_size = getattr(fcntl, "F_GETPIPE_SZ", None)
    if get_size is None:
        pytest.skip("no F_GETPIPE_SZ here")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        forkpool._widen_results(pool)
        size = fcntl.fcntl(pool._result_queue._reader.fileno(), get_size)
    assert size >= forkpool.RESULT_PIPE_BYTES


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
    import multiprocessing

    ran: list[tuple[str, int, int]] = []
    forkpool.meanwhile("probe", lambda: ran.append(("first", os.getpid(), 0)))
    forkpool.meanwhile("probe", lambda: ran.append(("again", os.getpid(), len(multiprocessing.active_children()))))
    assert list(forkpool.map_forked(lambda index: index, 10, min_items=100)) == list(range(10))
    assert ran == [], "a loop run in-process leaves the work for a pool"
    assert list(forkpool.map_forked(lambda index: index * 2, 300, min_items=0)) == [i * 2 for i in range(300)]
    assert [(label, pid) for label, pid, _ in ran] == [("again", os.getpid())], "one item per name, in the parent"
    assert ran[0][2] >= 1, "the workers were running while the parent did the work"
    list(forkpool.map_forked(lambda index: index, 300, min_items=0))
    assert len(ran) == 1, "done once"
