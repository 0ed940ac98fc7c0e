"""The cache store: saved in the background for big saves, and never read half-written."""

from __future__ import annotations

import os
import threading

from pipeline import forkpool
from pipeline.caching.shard_store import BACKGROUND_MIN_ENTRIES, ShardStore

FORMAT = b"test-store 1\n"


def _store(folder) -> ShardStore:
    return ShardStore(folder, FORMAT, accepts=lambda value: isinstance(value, str))


def _keys(count: int) -> list[str]:
    return [f"{index % 16:x}{index:08d}" for index in range(count)]


def test_a_big_save_is_written_by_a_child_and_reads_back_whole(tmp_path):
    store = _store(tmp_path)
    keys = _keys(BACKGROUND_MIN_ENTRIES + 10)
    for key in keys:
        store.put(key, "värde " + key)
    store.save(prune=False, background=True)
    assert forkpool._BACKGROUND, "a save this big goes to a forked child"
    (child,) = forkpool._BACKGROUND
    assert forkpool.join_background() is True
    assert child != os.getpid() and not forkpool._BACKGROUND
    again = _store(tmp_path)
    assert [again.get(key) for key in keys] == ["värde " + key for key in keys]
    assert again.rejected == []


def test_reading_the_store_waits_for_a_save_still_in_the_background(tmp_path):
    store = _store(tmp_path)
    keys = _keys(BACKGROUND_MIN_ENTRIES)
    for key in keys:
        store.put(key, key)
    store.save(prune=False, background=True)
    reader = _store(tmp_path)  # no join by the caller: loading a shard does it
    assert reader.get(keys[-1]) == keys[-1]
    assert not forkpool._BACKGROUND


def test_small_saves_and_saves_beside_other_threads_are_written_in_process(tmp_path):
    small = _store(tmp_path / "small")
    small.put("a1", "x")
    small.save(prune=False, background=True)
    assert not forkpool._BACKGROUND and (tmp_path / "small" / "shard-a.pickle").exists()

    busy = threading.Event()
    worker = threading.Thread(target=busy.wait)
    worker.start()
    try:
        big = _store(tmp_path / "big")
        for key in _keys(BACKGROUND_MIN_ENTRIES):
            big.put(key, key)
        big.save(prune=False, background=True)  # forking beside a thread is unsafe: in-process
        assert not forkpool._BACKGROUND
        assert len(list((tmp_path / "big").glob("shard-*.pickle"))) == 16
    finally:
        busy.set()
        worker.join()


def test_a_failing_background_write_is_reported_by_the_join(tmp_path):
    def fail() -> None:
        raise RuntimeError("disk on fire")

    forkpool.in_background(fail)
    assert forkpool.join_background() is False


def test_saving_one_store_does_not_wait_for_another(tmp_path):
    first, second = _store(tmp_path / "a"), _store(tmp_path / "b")
    for key in _keys(BACKGROUND_MIN_ENTRIES):
        first.put(key, key)
        second.put(key, key)
    first.save(prune=False, background=True)
    second.save(prune=False, background=True)
    assert len(forkpool._BACKGROUND) == 2  # both writing at once
    assert forkpool.join_background() is True


def test_loading_freezes_the_entries_until_the_build_ends(tmp_path):
    """Loaded shards are kept out of the garbage collector's walks, collector left running."""
    import gc

    store = _store(tmp_path)
    for key in _keys(64):
        store.put(key, key)
    store.save(prune=False)
    forkpool.join_background()
    assert gc.get_freeze_count() == 0
    again = _store(tmp_path)
    assert again.get(_keys(64)[5]) == _keys(64)[5]
    assert gc.isenabled(), "the collector runs again after loading"
    assert gc.get_freeze_count() > 0, "what was loaded is frozen"
    forkpool.join_background()  # what every build calls at its end
    assert gc.get_freeze_count() == 0


def test_a_threaded_process_loads_without_freezing(tmp_path):
    """The scheduler runs jobs in threads: nothing it loads may stay frozen until a site build."""
    import gc

    store = _store(tmp_path)
    store.put("a1", "x")
    store.save(prune=False)
    forkpool.join_background()
    busy = threading.Event()
    worker = threading.Thread(target=busy.wait)
    worker.start()
    try:
        assert _store(tmp_path).get("a1") == "x"
        assert gc.get_freeze_count() == 0
    finally:
        busy.set()
        worker.join()
