"""The content cache's HTML, in append-only files beside its shards, read one update at a time.

Of the content cache's 84 MB at 10,000 updates, 68 MB are three strings per update (``html``,
``toc_html``, ``feed_html``) that a build needs only for the outputs it remakes: an edit build
remakes a few dozen files. Unpickling and checksumming them on every build cost more than the
rest of the cache, so the shards keep each update with an :class:`HtmlRef` instead
(:meth:`pipeline.reading.model.Update.with_body`) and the strings live here, one record per
update, read with one ``pread`` when a template first touches them.

A record is never trusted blindly either: it carries a SHA-256 digest of its bytes and of the
fingerprint of the update it belongs to, so a damaged, truncated or reused file is noticed on
read. Then the update is made again from its source (:func:`register_repair`, set up by
:func:`pipeline.reading.content.read_content`), so a damaged cache costs time, never bytes.

Files are named by generation (``html-<time>-<random>.blob``) and only appended to, under an
``flock``; when more than half of a file is dead (records of edited or removed updates), the
writer copies the live records into a new generation and the old file is removed once no saved
entry names it. A process that loaded the shards keeps every file they name open
(:func:`open_files`), so a removal by another build never takes the HTML from under it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PREFIX, SUFFIX = "html-", ".blob"
_LENGTHS = struct.Struct("<QQQ")
_BATCH = 1 << 20  # bytes per write when appending
_CHECK = 16  # bytes of SHA-256 (SHA-NI: twice as fast as BLAKE2 here) before each payload
_FILES: dict[str, int] = {}  # blob path -> descriptor open for reading, for this process
Repair = Callable[[str], "tuple[str, str, str] | None"]  # fingerprint -> the strings made afresh
_REPAIRS: dict[str, list[Repair]] = {}  # cache folder -> the latest reads' repairs, newest last
_KEPT_REPAIRS = 4  # a long-running process (preview, scheduler) may still hold an earlier read


class HtmlUnavailable(Exception):
    """A record could not be read or failed its check, and nothing could make it again."""


@dataclass(frozen=True)
class HtmlRef:
    """Where one update's three strings are: a generation file, an offset and a length."""

    path: str
    offset: int
    length: int

    def load(self, fingerprint: str) -> tuple[str, str, str]:
        """The three strings of the update with ``fingerprint``, checked; made again if damaged."""
        try:
            data = os.pread(_descriptor(self.path), self.length, self.offset)
            values = _decode(data, fingerprint)
        except OSError:
            values = None
        if values is not None:
            return values
        for repair in reversed(_REPAIRS.get(os.path.dirname(self.path), [])):
            made = repair(fingerprint)
            if made is not None:
                return made
        raise HtmlUnavailable(f"{self.path}: damaged record at {self.offset}; build with --no-cache")


def register_repair(folder: str | Path, repair: Repair) -> None:
    """How to make an update's HTML again when its record in ``folder`` is damaged."""
    kept = _REPAIRS.setdefault(str(folder), [])
    kept.append(repair)
    del kept[:-_KEPT_REPAIRS]


def encode(fingerprint: str, html: str, toc_html: str, feed_html: str) -> bytes:
    parts = [html.encode("utf-8"), toc_html.encode("utf-8"), feed_html.encode("utf-8")]
    payload = _LENGTHS.pack(*(len(part) for part in parts)) + b"".join(parts)
    return _check(fingerprint, payload) + payload


def _check(fingerprint: str, payload: bytes | memoryview) -> bytes:
    h = hashlib.sha256(fingerprint.encode("ascii"))
    h.update(payload)
    return h.digest()[:_CHECK]


def _decode(data: bytes, fingerprint: str) -> tuple[str, str, str] | None:
    view = memoryview(data)
    if len(data) < _CHECK + _LENGTHS.size or _check(fingerprint, view[_CHECK:]) != data[:_CHECK]:
        return None
    sizes = _LENGTHS.unpack_from(data, _CHECK)
    start = _CHECK + _LENGTHS.size
    if start + sum(sizes) != len(data):
        return None
    values: list[str] = []
    for size in sizes:
        values.append(data[start : start + size].decode("utf-8"))
        start += size
    return values[0], values[1], values[2]


def _descriptor(path: str) -> int:
    fd = _FILES.get(path)
    if fd is None:
        fd = _FILES[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    return fd


def open_files(paths: Iterable[str]) -> dict[str, int]:
    """Open every named file for this process; their sizes (files that are gone are left out).

    Called when the shards are loaded: an entry whose record lies beyond its file's end (a file
    removed or cut short) is then treated as a miss, and any later removal cannot affect us.
    """
    sizes: dict[str, int] = {}
    for path in paths:
        try:
            sizes[path] = os.fstat(_descriptor(path)).st_size
        except OSError:
            continue
    return sizes


def generations(folder: Path) -> list[Path]:
    """The folder's generation files, oldest first (their names sort by creation time)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX))
    except OSError:
        return []


def new_generation(folder: Path) -> Path:
    return folder / f"{PREFIX}{time.time_ns():020d}-{secrets.token_hex(4)}{SUFFIX}"


def encoded_length(html: str, toc_html: str, feed_html: str) -> int:
    """The length :func:`encode` will give, without keeping the record."""
    return _CHECK + _LENGTHS.size + sum(len(part.encode("utf-8")) for part in (html, toc_html, feed_html))


def append(path: Path, records: Iterable[bytes]) -> list[HtmlRef]:
    """Append ``records`` to ``path`` (created if needed) under an exclusive lock; their refs.

    ``records`` is consumed as it is written, about a megabyte at a time: a cold 10,000-update
    build appends 68 MB, which held as a list and then joined doubled the writer's memory
    (the build's peak RSS went from 368 to 569 MiB).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    refs: list[HtmlRef] = []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        offset = os.fstat(fd).st_size
        batch: list[bytes] = []
        size = 0
        for record in records:
            refs.append(HtmlRef(str(path), offset, len(record)))
            offset += len(record)
            batch.append(record)
            size += len(record)
            if size >= _BATCH:
                _write_all(fd, b"".join(batch))
                batch, size = [], 0
        if batch:
            _write_all(fd, b"".join(batch))
    finally:
        os.close(fd)  # releases the lock
    return refs


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_raw(ref: HtmlRef) -> bytes:
    """A record's bytes as stored (for copying into a new generation; checked again on use)."""
    return os.pread(_descriptor(ref.path), ref.length, ref.offset)


def remove_unused(folder: Path, used: set[str]) -> None:
    """Remove generation files no saved entry names any more."""
    for path in generations(folder):
        if str(path) not in used:
            with contextlib.suppress(OSError):
                path.unlink()
