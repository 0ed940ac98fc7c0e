"""The content cache's base file and append-only log: what is read is what was written, or nothing.

A damaged, truncated or foreign file is ignored (never decoded); a log is read up to its first
bad frame, and the next writer cuts such a tail off before it appends, so nothing written
later hides behind it; a writer killed at any moment leaves a store the next load reads.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.caching.record_store import BASE, LOG, SUFFIX, RecordStore
from tests.conftest import REPO

FORMAT = b"goal17-test-records 1\n"


def store(folder: Path) -> RecordStore:
    return RecordStore(folder, FORMAT)


def loaded(folder: Path) -> tuple[dict, RecordStore]:
    s = store(folder)
    return s.load(), s


def one(folder: Path, prefix: str) -> Path:
    (path,) = folder.glob(f"{prefix}*{SUFFIX}")
    return path


def test_a_base_and_its_log_give_back_every_change(tmp_path):
    s = store(tmp_path)
    assert s.load() == {} and s.generation is None and not s.append({"a": 1})  # no base: no log
    assert s.rewrite({"a": ("x", 1), "b": ("y", 2)})
    assert s.append({"c": ("z", 3)})
    assert s.append({"a": None, "b": ("y", 4)})  # None drops a name
    records, again = loaded(tmp_path)
    assert records == {"b": ("y", 4), "c": ("z", 3)}
    assert again.generation == s.generation and not again.damaged and again.rejected == []
    assert again.append({"d": ("w", 5)})
    assert loaded(tmp_path)[0] == {"b": ("y", 4), "c": ("z", 3), "d": ("w", 5)}


def test_a_new_base_removes_the_older_files(tmp_path):
    s = store(tmp_path)
    s.rewrite({"a": 1})
    s.append({"b": 2})
    first = s.generation
    s.rewrite({"c": 3})
    assert s.generation != first
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{BASE}{s.generation}{SUFFIX}"]
    assert loaded(tmp_path)[0] == {"c": 3}


def test_a_damaged_base_is_ignored_and_an_older_whole_one_used(tmp_path):
    s = store(tmp_path)
    s.rewrite({"old": 1})
    s.append({"older-log": 2})
    keep = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    time.sleep(0.001)
    s.rewrite({"new": 3})
    for name, data in keep.items():  # the older generation, as a killed cleanup leaves it
        (tmp_path / name).write_bytes(data)
    newest = tmp_path / f"{BASE}{s.generation}{SUFFIX}"
    data = bytearray(newest.read_bytes())
    data[-3] ^= 0x40
    newest.write_bytes(bytes(data))
    records, again = loaded(tmp_path)
    assert records == {"old": 1, "older-log": 2}
    assert again.damaged and again.rejected == [str(newest)]
    newest.write_bytes(bytes(data[:-1]))  # cut short
    assert loaded(tmp_path)[0] == {"old": 1, "older-log": 2}


def test_foreign_and_other_generation_files_are_never_read(tmp_path):
    (tmp_path / f"{BASE}99999999999999999999-ffffffff{SUFFIX}").write_bytes(os.urandom(300))
    (tmp_path / f"{BASE}99999999999999999998-ffffffff{SUFFIX}").write_bytes(b"goal17-other 1\n" + bytes(40))
    records, s = loaded(tmp_path)
    assert records == {} and s.damaged and len(s.rejected) == 2
    s.rewrite({"a": 1})
    other = store(tmp_path / "other")
    other.rewrite({"x": 1})
    other.append({"evil": 2})  # a whole frame, but of another generation
    log = one(tmp_path / "other", LOG)
    (tmp_path / f"{LOG}{s.generation}{SUFFIX}").write_bytes(log.read_bytes())
    records, again = loaded(tmp_path)
    assert records == {"a": 1} and again.damaged


def test_a_payload_that_is_not_a_mapping_is_rejected(tmp_path):
    s = store(tmp_path)
    s.rewrite([1, 2, 3])  # type: ignore[arg-type]  # checksummed, but not what a base holds
    records, again = loaded(tmp_path)
    assert records == {} and again.damaged


def test_a_cut_log_is_read_to_its_last_whole_frame_and_cut_before_the_next_append(tmp_path):
    s = store(tmp_path)
    s.rewrite({})
    for i in range(3):
        s.append({f"k{i}": i})
    log = one(tmp_path, LOG)
    size = log.stat().st_size
    for cut in (size - 1, size - 7, size - 20):
        with open(log, "r+b") as handle:
            handle.truncate(cut)
        records, again = loaded(tmp_path)
        assert records == {"k0": 0, "k1": 1} and again.damaged
    with open(log, "ab") as handle:
        handle.write(b"G17R" + bytes(30))  # a killed writer's frame head, and garbage
    records, again = loaded(tmp_path)
    assert records == {"k0": 0, "k1": 1}
    assert again.append({"k3": 3})
    assert loaded(tmp_path)[0] == {"k0": 0, "k1": 1, "k3": 3}


def test_frames_appended_by_another_writer_since_loading_are_kept(tmp_path):
    store(tmp_path).rewrite({})
    first, second = store(tmp_path), store(tmp_path)
    first.load()
    second.load()
    assert first.append({"a": 1})
    assert second.append({"b": 2})  # the log grew since it was read: whole frames, kept
    assert loaded(tmp_path)[0] == {"a": 1, "b": 2}


WRITER = """
import sys
from pipeline.caching.record_store import RecordStore
s = RecordStore(sys.argv[1], b"goal17-test-records 1\\n")
s.load()
i = 0
while True:
    s.append({"k%d" % i: "v" * (i % 5000)})
    i += 1
"""


def test_a_writer_killed_at_any_moment_leaves_a_store_the_next_load_reads(tmp_path):
    store(tmp_path).rewrite({"base": 1})
    rng = random.Random(8)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for round_ in range(6):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], env=env)
        time.sleep(rng.uniform(0.3, 0.8))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        records, s = loaded(tmp_path)
        assert records["base"] == 1
        written = {key: value for key, value in records.items() if key.startswith("k")}
        assert written, "the writer appended whole frames before it was killed"
        assert all(value == "v" * (int(key[1:]) % 5000) for key, value in written.items())
        assert s.append({"after": round_})
        assert loaded(tmp_path)[0]["after"] == round_  # never hidden behind a killed writer's tail
