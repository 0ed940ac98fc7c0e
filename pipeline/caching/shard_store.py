"""A persistent key → value store as a few checksummed pickle shards, for the render cache.

(The content cache, which once used it too, has its own format: :mod:`.record_store`.)

Thousands of small cache files cost more than the work they save on a slow file system (about
1 ms to create each one here), so entries are grouped into 16 shard files by the first hex digit
of their key: reading or writing a shard is one file operation, and a build that changes a few
entries rewrites only their shards. A shard is never trusted blindly: it starts with a format
header and a SHA-256 of its payload, every entry must belong to it and pass ``accepts``; anything
else (truncated write, disk damage, another format) is ignored as if empty, recorded in
``rejected``, and rewritten on the next save. Shards are written to a temporary file and renamed
into place, so a reader never sees half a shard. Values are pickled: the store lives in our own
state folder and is verified by its checksum before it is unpickled.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import forkpool

# Smaller saves take milliseconds: not worth a child process (forking a 10k build costs 0.03 s and
# the child 0.08 s).
BACKGROUND_MIN_ENTRIES = 3000
SHARDS = "0123456789abcdef"  # a key's first hex digit names its shard
_WRITERS: dict[Path, int | None] = {}  # folder -> background child still writing its shards


class ShardStore:
    def __init__(self, folder: str | Path, format_line: bytes, accepts: Callable[[Any], bool]):
        self.folder = Path(folder)
        self.format_line = format_line
        self.accepts = accepts
        self.rejected: list[str] = []  # shards that existed but could not be trusted
        self._shards: dict[str, dict[str, Any]] = {}  # loaded on first use
        self._used: set[str] = set()
        self._dirty: set[str] = set()

    def get(self, key: str) -> Any | None:
        value = self._shard(key[0]).get(key)
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self._shard(key[0])[key] = value
        self._used.add(key)
        self._dirty.add(key[0])

    def save(self, prune: bool, background: bool = False) -> None:
        """Write the shards that changed; with ``prune``, keep only entries used since loading.

        A store that cannot be written only costs speed next time; the build goes on. With
        ``background`` the writing (pickling, checksums, files: most of a second for a cold
        10,000-update build) happens in a forked child while the build goes on; the build joins
        it before it finishes (:func:`pipeline.forkpool.join_background`).
        """
        forkpool.join(_WRITERS.pop(self.folder, None))  # an earlier save of this folder lands first
        todo: set[str] = set()
        for name, entries in self._shards.items():
            if prune:
                kept = {key: value for key, value in entries.items() if key in self._used}
                if len(kept) != len(entries):
                    self._shards[name] = kept
                    self._dirty.add(name)
            if name in self._dirty:
                todo.add(name)
        self._dirty.clear()
        if not todo:
            return

        def write() -> None:
            for name in sorted(todo):
                self._write(name, self._shards[name])

        if background and sum(len(self._shards[name]) for name in todo) >= BACKGROUND_MIN_ENTRIES:
            _WRITERS[self.folder] = forkpool.in_background(write)
        else:
            write()

    def is_empty(self) -> bool:
        """Nothing stored: no entry in memory and no shard file on disk (a cold build's store)."""
        if any(self._shards.values()):
            return False
        forkpool.join(_WRITERS.pop(self.folder, None))  # a save still being written lands first
        try:
            return not any(p.name.startswith("shard-") for p in self.folder.iterdir())
        except OSError:
            return True

    def _shard(self, name: str) -> dict[str, Any]:
        if name not in self._shards:
            self._shards[name] = self._load(name)
        return self._shards[name]

    def _path(self, name: str) -> Path:
        return self.folder / f"shard-{name}.pickle"

    def _write(self, name: str, entries: dict[str, Any]) -> None:
        """One shard to a temporary file, renamed into place.

        The header and the payload go out in one ``writev``: joining them first copied the
        whole payload (about 150 MB over both caches of a cold 10,000-update build) into a
        fresh buffer only to write it.
        """
        payload = memoryview(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
        header = self.format_line + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n"
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            try:
                _write_all(fd, header, payload)
            finally:
                os.close(fd)
            os.replace(tmp, self._path(name))
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _load(self, name: str) -> dict[str, Any]:
        forkpool.join(_WRITERS.pop(self.folder, None))  # a save still being written lands first
        path = self._path(name)
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        start = len(self.format_line)
        end = data.find(b"\n", start)
        # A view, not a copy: shards are megabytes, and a build reads all sixteen.
        payload = memoryview(data)[end + 1 :]
        if (
            not data.startswith(self.format_line)
            or end == -1
            or hashlib.sha256(payload).hexdigest().encode("ascii") != data[start:end]
        ):
            return self._reject(name, path)
        try:
            entries = _unpickle(payload)  # our own file, verified by its checksum
        except Exception:  # noqa: BLE001 - any unpickling failure means: start this shard afresh
            return self._reject(name, path)
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and k[:1] == name and self.accepts(v) for k, v in entries.items()
        ):
            return self._reject(name, path)
        return entries

    def _reject(self, name: str, path: Path) -> dict[str, Any]:
        self.rejected.append(str(path))
        self._dirty.add(name)  # rewrite it whole on the next save
        return {}


def _write_all(fd: int, header: bytes, payload: memoryview) -> None:
    """``header`` then ``payload`` to ``fd``, however many calls the kernel needs."""
    written = os.writev(fd, [header, payload]) - len(header)
    while written < 0:  # not even the header went out whole: write the rest of it first
        written += os.write(fd, header[len(header) + written :])
    while written < len(payload):
        written += os.write(fd, payload[written:])


def _unpickle(payload: memoryview) -> Any:
    """``pickle.loads``, the loaded objects then exempt from the cyclic garbage collector.

    A shard can hold thousands of small objects, none of them garbage and none in a cycle, that
    live until the build ends (measured when the content cache's shards held, per update, a
    source, an update, tuples and datetimes). With the collector running, unpickling triggered collection after collection over
    everything loaded so far, and every later full collection walked them all again: at 10,000
    updates, loading and then allocating as a build does took 0.75 s of CPU against 0.37 s with
    the collector paused while loading and the result frozen (``gc.freeze``; same process,
    ``/tmp`` script). Frozen objects are still freed by reference counting when the build drops
    the store; :func:`pipeline.forkpool.join_background`, which every build calls at its end,
    hands them back to the collector (``gc.unfreeze``). Only a single-threaded process (a
    command) freezes: in the scheduler or a server, where jobs run in threads and a newsletter
    job reads the caches without a site build's end, whatever cyclic garbage existed at that
    moment would stay frozen until the next site build.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        entries = pickle.loads(payload)
        forkpool.hold_frozen()
        return entries
    finally:
        if was_enabled:
            gc.enable()
