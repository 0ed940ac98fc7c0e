"""The content cache's records on disk: one checksummed base file and an append-only log.

Rewriting a 1 MB pickle shard for one edited update cost an edit build 0.12 s, and replacing
an existing file by ``rename`` makes ext4 flush the new file's blocks before it returns
(``auto_da_alloc``): tens of milliseconds of wall time each. So a build whose changes are few
*appends* them to a log (``log-<generation>.rec``: one ``write`` of one frame, no rename, no
fsync), and only a build that changes much (a cold build, a new setting) or finds the log grown
past a quarter of the base writes a new base (``base-<generation>.rec``, under a name no
file has yet, so the rename replaces nothing) and removes the older files.

Both are :mod:`marshal` payloads of ``{name: record}`` (``None``: the name was dropped), each in
a frame with a magic number, its length and a SHA-256 check of the format line, the base's
generation and the payload. A frame that is cut short, damaged or from another format or
generation is never decoded: a damaged base is skipped for the newest older one that is whole
(with its own log), and a log is read up to its first bad frame. A process killed while
appending leaves such a tail; the next writer, holding the log's ``flock``, cuts it off before
it appends, so frames written later are never hidden behind it. Every record is also checked
by the caller against the file it describes, so a record read from an older generation (two
builds at once) only costs a miss.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import marshal
import os
import secrets
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

BASE, LOG, SUFFIX = "base-", "log-", ".rec"
MAGIC = b"G17R"
_FRAME = struct.Struct("<4sQ16s")  # magic, payload length, check
_STALE_TMP = 600  # seconds after which a temporary file is a killed writer's, not a live one's


class RecordStore:
    def __init__(self, folder: str | Path, format_line: bytes):
        self.folder = Path(folder)
        self.format_line = format_line
        self.rejected: list[str] = []  # files (or a log's tail) that could not be trusted
        self.generation: str | None = None  # of the base loaded; None: none was whole
        self.base_bytes = 0
        self.log_bytes = 0  # where the log's last whole frame ends
        self.damaged = False  # something was rejected: the next save writes a new base

    def load(self) -> dict[str, Any]:
        """Every record of the newest whole base and its log (later frames win)."""
        records: dict[str, Any] = {}
        for path in sorted(self._files(BASE), reverse=True):
            generation = path.name[len(BASE) : -len(SUFFIX)]
            try:
                data = path.read_bytes()
            except OSError:
                continue
            payload = (
                self._payload(data, len(self.format_line), generation)
                if data.startswith(self.format_line)
                else None
            )
            loaded = _loads(payload) if payload is not None else None
            if isinstance(loaded, dict):
                records, self.generation, self.base_bytes = loaded, generation, len(data)
                break
            self._reject(str(path))
        if self.generation is None:
            return records
        try:
            with open(self._log(self.generation), "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # no frame half-written by a live writer
                data = handle.read()
        except OSError:
            return records
        at = 0
        while at < len(data):
            end = self._frame_end(data, at, self.generation)
            frame = _loads(memoryview(data)[at + _FRAME.size : end]) if end is not None else None
            if not isinstance(frame, dict):
                self._reject(f"{self._log(self.generation)}@{at}")
                break
            for name, record in frame.items():
                if record is None:
                    records.pop(name, None)
                else:
                    records[name] = record
            at = end
        self.log_bytes = at
        return records

    def append(self, changes: dict[str, Any]) -> bool:
        """One frame of ``changes`` at the end of the loaded base's log; False if it could not be."""
        if self.generation is None:
            return False
        payload = marshal.dumps(changes, 4)
        head = self._head(payload, self.generation)
        try:
            fd = os.open(
                self._log(self.generation), os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size != self.log_bytes:  # others appended since we read it, or one was killed doing so
                end = self._whole_frames(fd, self.log_bytes if size > self.log_bytes else 0, size)
                if end != size:
                    os.ftruncate(fd, end)
            _write_all(fd, [head, payload])
            self.log_bytes = os.fstat(fd).st_size
            return True
        except OSError:
            return False
        finally:
            os.close(fd)  # releases the lock

    def rewrite(self, records: dict[str, Any]) -> bool:
        """A new base of ``records`` (and no log); then the older bases and logs are removed."""
        generation = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        payload = marshal.dumps(records, 4)
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            try:
                _write_all(fd, [self.format_line, self._head(payload, generation), payload])
            finally:
                os.close(fd)
            os.rename(tmp, self.folder / f"{BASE}{generation}{SUFFIX}")  # a new name: nothing replaced
            tmp = None
        except OSError:
            return False
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.generation, self.log_bytes, self.damaged = generation, 0, False
        self.base_bytes = len(self.format_line) + _FRAME.size + len(payload)
        self._remove_others(generation)
        return True

    def _remove_others(self, generation: str) -> None:
        keep = {f"{BASE}{generation}{SUFFIX}", f"{LOG}{generation}{SUFFIX}"}
        now = time.time()
        for path in [*self._files(BASE), *self._files(LOG), *self._files(".tmp-", "")]:
            if path.name in keep:
                continue
            with contextlib.suppress(OSError):
                if not path.name.startswith(".tmp-") or now - path.stat().st_mtime > _STALE_TMP:
                    path.unlink()

    def _files(self, prefix: str, suffix: str = SUFFIX) -> list[Path]:
        try:
            return [p for p in self.folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(suffix)]
        except OSError:
            return []

    def _log(self, generation: str) -> Path:
        return self.folder / f"{LOG}{generation}{SUFFIX}"

    def _check(self, payload: bytes | memoryview, generation: str) -> bytes:
        h = hashlib.sha256(self.format_line)
        h.update(generation.encode("ascii"))
        h.update(payload)
        return h.digest()[:16]

    def _head(self, payload: bytes, generation: str) -> bytes:
        return _FRAME.pack(MAGIC, len(payload), self._check(payload, generation))

    def _frame_end(self, data: bytes, at: int, generation: str) -> int | None:
        """Where the whole, checked frame starting at ``at`` ends; None if it is not one."""
        if len(data) - at < _FRAME.size:
            return None
        magic, length, check = _FRAME.unpack_from(data, at)
        end = at + _FRAME.size + length
        if magic != MAGIC or end > len(data):
            return None
        if self._check(memoryview(data)[at + _FRAME.size : end], generation) != check:
            return None
        return end

    def _payload(self, data: bytes, at: int, generation: str) -> memoryview | None:
        """The payload of a file holding exactly one whole frame from ``at``."""
        end = self._frame_end(data, at, generation)
        return memoryview(data)[at + _FRAME.size : end] if end == len(data) else None

    def _whole_frames(self, fd: int, start: int, size: int) -> int:
        """Where the whole frames from ``start`` end in the open log (a killed writer's tail cut)."""
        assert self.generation is not None
        data = os.pread(fd, size - start, start)
        at = 0
        while at < len(data):
            end = self._frame_end(data, at, self.generation)
            if end is None:
                break
            at = end
        return start + at

    def _reject(self, what: str) -> None:
        self.rejected.append(what)
        self.damaged = True


def _loads(payload: memoryview) -> Any:
    """``marshal.loads`` of a checked payload; None when it is not marshal data after all."""
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


def _write_all(fd: int, parts: list[bytes]) -> None:
    """``parts`` one after the other to ``fd``, however many calls the kernel needs."""
    views = [memoryview(part) for part in parts if part]
    first = 0
    while first < len(views):
        written = os.writev(fd, views[first:])
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]
