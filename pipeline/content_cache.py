"""The persistent content cache: parsed sources and finished updates, one file in the state folder.

Keyed by a digest of a file's bytes, its path, the settings and the code (see
:func:`pipeline.content.read_content`), so a hit is exactly what parsing and rendering again
would give. One pickle for all entries, because reading one 50 MB file is far faster than 10,000
small ones; it is checksummed, and a damaged, foreign or old-format file is ignored (the build
then reads everything afresh and writes a new one), never trusted. Entries not used by a build
are dropped when it saves, so the file does not grow with every edit.
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

FORMAT = b"goal17-content-cache 1\n"
FILE_NAME = "content-v1.pickle"


def cache_path(settings: Settings) -> Path:
    return Path(settings.state_dir) / "cache" / FILE_NAME


class ContentCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rejected = False  # the file existed but could not be trusted
        self._entries = self._load()
        self._used: set[str] = set()
        self._dirty = False
        self.hits = 0

    def get(self, key: str) -> CachedSource | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._used.add(key)
            self.hits += 1
        return entry

    def put(self, key: str, entry: CachedSource) -> None:
        self._entries[key] = entry
        self._used.add(key)
        self._dirty = True

    def save(self) -> None:
        """Write the entries this build used, if anything changed; failures only cost speed."""
        if not self._dirty and len(self._used) == len(self._entries):
            return
        entries = {key: self._entries[key] for key in self._used}
        payload = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)
        data = FORMAT + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-content-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self._entries, self._dirty = entries, False

    def _load(self) -> dict[str, CachedSource]:
        try:
            data = self.path.read_bytes()
        except OSError:
            return {}
        if not data.startswith(FORMAT):
            self.rejected = True
            return {}
        checksum, newline, payload = data[len(FORMAT) :].partition(b"\n")
        if not newline or hashlib.sha256(payload).hexdigest().encode("ascii") != checksum:
            self.rejected = True
            return {}
        try:
            entries = pickle.loads(payload)  # our own file, verified by its checksum
        except Exception:  # noqa: BLE001 - any unpickling failure means: rebuild the cache
            self.rejected = True
            return {}
        if not isinstance(entries, dict) or not all(isinstance(v, CachedSource) for v in entries.values()):
            self.rejected = True
            return {}
        return entries
