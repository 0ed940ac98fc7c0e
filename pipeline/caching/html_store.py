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
from pathlib import Path
from typing import NamedTuple

PREFIX, SUFFIX = "html-", ".blob"
_LENGTHS = struct.Struct("<QQQ")
_BATCH = 1 << 20  # bytes per write when appending
_BATCH_RECORDS = 512  # records per write at most (a writev takes 1,024 buffers)
SAME_AS_HTML = (1 << 64) - 1  # the length of a feed_html that is html: not stored again
_CHECK = 16  # bytes of SHA-256 (SHA-NI: twice as fast as BLAKE2 here) before each payload
_FILES: dict[str, int] = {}  # blob path -> descriptor open for reading, for this process
Repair = Callable[[str], "tuple[str, str, str] | None"]  # fingerprint -> the strings made afresh
_REPAIRS: dict[str, list[Repair]] = {}  # cache folder -> the latest reads' repairs, newest last
_KEPT_REPAIRS = 4  # a long-running process (preview, scheduler) may still hold an earlier read


class HtmlUnavailable(Exception):
    """A record could not be read or failed its check, and nothing could make it again."""


class HtmlRef(NamedTuple):
    """Where one update's three strings are: a generation file, an offset and a length.

    A tuple, so the content cache makes 10,000 of them per build from its records' tuples with
    one C call each (``tuple.__new__(HtmlRef, record)``).
    """

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
    """One record: check, the three lengths, the UTF-8 bytes; ``feed_html`` stored only if it differs.

    ``feed_html`` is nearly always ``html`` itself (it re-parses to itself): writing it again cost
    a third of the encoding, checksumming and bytes, so its length is :data:`SAME_AS_HTML` then.
    The check is fed part by part and the record joined once: no payload copy only to hash it.
    """
    same = feed_html is html or feed_html == html
    parts = [html.encode("utf-8"), toc_html.encode("utf-8")]
    if not same:
        parts.append(feed_html.encode("utf-8"))
    lengths = _LENGTHS.pack(len(parts[0]), len(parts[1]), SAME_AS_HTML if same else len(parts[2]))
    h = hashlib.sha256(fingerprint.encode("ascii"))
    h.update(lengths)
    for part in parts:
        h.update(part)
    return b"".join([h.digest()[:_CHECK], lengths, *parts])


def _check(fingerprint: str, payload: bytes | memoryview) -> bytes:
    h = hashlib.sha256(fingerprint.encode("ascii"))
    h.update(payload)
    return h.digest()[:_CHECK]


def _decode(data: bytes, fingerprint: str) -> tuple[str, str, str] | None:
    view = memoryview(data)
    if len(data) < _CHECK + _LENGTHS.size or _check(fingerprint, view[_CHECK:]) != data[:_CHECK]:
        return None
    sizes = list(_LENGTHS.unpack_from(data, _CHECK))
    same = sizes[2] == SAME_AS_HTML
    if same:
        sizes.pop()
    start = _CHECK + _LENGTHS.size
    if start + sum(sizes) != len(data):
        return None
    values: list[str] = []
    for size in sizes:
        values.append(data[start : start + size].decode("utf-8"))
        start += size
    return values[0], values[1], values[0] if same else values[2]


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
    """The length :func:`encode` will give, without keeping the record (an ASCII text's is its length)."""
    parts = (html, toc_html) if feed_html is html or feed_html == html else (html, toc_html, feed_html)
    return _CHECK + _LENGTHS.size + sum(len(p) if p.isascii() else len(p.encode("utf-8")) for p in parts)


def create(path: Path) -> None:
    """Make ``path`` (an empty generation, if it is not there) and open it for this process.

    A build creates the file its forked renderers append to before it forks them, so they and
    the publishing workers forked later all read it through the one descriptor the parent holds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    open_files([str(path)])


def append(path: Path, records: Iterable[bytes], create: bool = True) -> list[HtmlRef]:
    """Append ``records`` to ``path`` (created if needed) under an exclusive lock; their refs.

    ``records`` is consumed as it is written, about a megabyte at a time: a cold 10,000-update
    build appends 68 MB, which held as a list and then joined doubled the writer's memory
    (the build's peak RSS went from 368 to 569 MiB). Each batch goes out in one ``writev``
    of its records as they are, not joined into one more copy first. ``create=False``: a file
    that is gone (removed by another build) is an ``OSError``, not made again empty.
    """
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o600)
    refs: list[HtmlRef] = []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        offset = os.fstat(fd).st_size
        name = str(path)
        batch: list[bytes] = []
        size = 0
        for record in records:
            refs.append(HtmlRef(name, offset, len(record)))
            offset += len(record)
            batch.append(record)
            size += len(record)
            if size >= _BATCH or len(batch) >= _BATCH_RECORDS:
                _write_all(fd, batch)
                batch, size = [], 0
        if batch:
            _write_all(fd, batch)
    finally:
        os.close(fd)  # releases the lock
    return refs


def _write_all(fd: int, parts: list[bytes]) -> None:
    """``parts`` one after the other to ``fd``, however many calls the kernel needs."""
    views = [memoryview(part) for part in parts if part]
    first = 0
    while first < len(views):
        written = os.writev(fd, views[first:] if first else views)
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]


def read_raw(ref: HtmlRef) -> bytes:
    """A record's bytes as stored (for copying into a new generation; checked again on use)."""
    return os.pread(_descriptor(ref.path), ref.length, ref.offset)


def remove_unused(folder: Path, used: set[str]) -> None:
    """Remove generation files no saved entry names any more."""
    for path in generations(folder):
        if str(path) not in used:
            with contextlib.suppress(OSError):
                path.unlink()
