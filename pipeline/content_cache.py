"""The persistent content cache: parsed sources and finished updates, in the state folder.

Keyed by a digest of a file's stats, its path, the settings and the code (see
:func:`pipeline.content.read_content`), so a hit is exactly what parsing and rendering again
would give. Entries are spread over 16 shard files by key, because reading a few large files is
far faster than 10,000 small ones, and a build that changed one update rewrites one or two
shards, not everything. Each shard is checksummed; a damaged, foreign or old-format shard is
ignored (its updates are read afresh and the shard rewritten), never trusted. Entries a build did
not use are dropped when it saves, so the cache does not grow with every edit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from pipeline.content import CachedSource
from pipeline.settings import Settings

FORMAT = b"goal17-content-cache 2\n"
FOLDER_NAME = "content-v2"
SHARDS = "0123456789abcdef"  # a key's first hex digit names its shard


def cache_path(settings: Settings) -> Path:
    return Path(settings.state_dir) / "cache" / FOLDER_NAME


class ContentCache:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.rejected: list[str] = []  # shards that existed but could not be trusted
        self._shards = {name: self._load(name) for name in SHARDS}
        self._used: set[str] = set()
        self._dirty: set[str] = set()
        self.hits = 0

    def get(self, key: str) -> CachedSource | None:
        entry = self._shards[key[0]].get(key)
        if entry is not None:
            self._used.add(key)
            self.hits += 1
        return entry

    def put(self, key: str, entry: CachedSource) -> None:
        self._shards[key[0]][key] = entry
        self._used.add(key)
        self._dirty.add(key[0])

    def save(self) -> None:
        """Write the shards that changed, keeping only entries this build used.

        A cache that cannot be written only costs speed next time; the build goes on.
        """
        for name, entries in self._shards.items():
            kept = {key: entry for key, entry in entries.items() if key in self._used}
            if name not in self._dirty and len(kept) == len(entries):
                continue
            self._shards[name] = kept
            self._write(name, kept)
        self._dirty.clear()

    def _path(self, name: str) -> Path:
        return self.folder / f"shard-{name}.pickle"

    def _write(self, name: str, entries: dict[str, CachedSource]) -> None:
        payload = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)
        data = FORMAT + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self._path(name))
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _load(self, name: str) -> dict[str, CachedSource]:
        path = self._path(name)
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        checksum, newline, payload = data[len(FORMAT) :].partition(b"\n")
        if (
            not data.startswith(FORMAT)
            or not newline
            or hashlib.sha256(payload).hexdigest().encode("ascii") != checksum
        ):
            self.rejected.append(str(path))
            return {}
        try:
            entries = pickle.loads(payload)  # our own file, verified by its checksum
        except Exception:  # noqa: BLE001 - any unpickling failure means: read those updates afresh
            self.rejected.append(str(path))
            return {}
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and k[:1] == name and isinstance(v, CachedSource) for k, v in entries.items()
        ):
            self.rejected.append(str(path))
            return {}
        return entries
