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
