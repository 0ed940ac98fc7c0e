"""The persistent content cache: parsed sources and finished updates, in the state folder.

One record per content file, found by its path and reused only while the file's stats (size,
mtime, ctime, inode, mode) and the context (settings, code, the terminal's language) are what
they were (see :func:`pipeline.reading.content.read_content`), so a hit is exactly what parsing
and rendering again would give. Records are plain tuples (:mod:`pipeline.caching.content_records`)
in a base file and an append-only log (:mod:`pipeline.caching.record_store`): an edit build
appends the few records it changed. Records a build did not use are dropped when it saves, so
the cache does not grow with every edit. The updates' HTML is kept apart
(:mod:`pipeline.caching.html_store`) and read only for the outputs a build remakes.
"""

from __future__ import annotations

import gc
import itertools
import shutil
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import forkpool
from pipeline.caching import content_records, html_store, wire
from pipeline.caching.fingerprint import digest
from pipeline.caching.record_store import RecordStore
from pipeline.config.site import Settings
from pipeline.reading.content import read_content
from pipeline.reading.files import Found
from pipeline.reading.model import CachedSource, ContentSet, Problem, Renderer, Settle, Source, Update

FORMAT = b"goal17-content-cache 5\n"
FOLDER_NAME = "content-v5"  # v5: marshalled records in a base and a log, found by path and stats
EARLIER_FORMATS = ("content-v2", "content-v3", "content-v4")
# A generation file is copied afresh when its dead records outweigh the live ones by this much.
COMPACT_SLACK = 4 << 20
# The log is folded into a new base once it is larger than a quarter of the base or this.
LOG_SLACK = 256 << 10
# Saves of fewer new entries take milliseconds: not worth a child process (forking a 10k build
# costs 0.03 s).
BACKGROUND_MIN_ENTRIES = 3000
_WRITERS: dict[Path, int | None] = {}  # folder -> background child still writing


def cache_path(settings: Settings, content_dir: str | Path) -> Path:
    """One cache per content folder: sites sharing a state folder must not prune each other's."""
    return Path(settings.state_dir) / "cache" / FOLDER_NAME / digest(str(Path(content_dir).absolute()))


def split_key(key: str) -> tuple[str, str, str] | None:
    """A key of :func:`pipeline.reading.content.file_keys`: (path, stats, context); None if not one."""
    parts = key.split("\0", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


class ContentCache:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.store = RecordStore(folder, FORMAT)
        self._records: dict[str, Any] | None = None  # path -> (stats, context, flat), once loaded
        self._decoded: dict[str, CachedSource] = {}
        # put by this build: (stats, context, entry, its record when the entry came as one)
        self._new: dict[str, tuple[str, str, CachedSource, Any]] = {}
        self._used: set[str] = set()
        self._sizes: dict[str, int] = {}  # HTML store file -> its size (-1: gone), once opened
        self._keep: str | None = None  # the new generation a save made: the others go after it
        self._sink: Path | None = None  # where this build's renderers put their HTML (html_sink)
        self._sink_is_new = False  # … a generation this build made

    def get(self, key: str) -> CachedSource | None:
        """The entry for ``key``; one whose HTML record is gone counts as parsed, not rendered."""
        return self.get_many([key])[0]

    def get_many(self, keys: list[str]) -> list[CachedSource | None]:
        """:meth:`get` of each key, in one loop: a build asks for every content file's at once.

        The objects are made with the garbage collector paused and then frozen (see
        :class:`_paused_collector`): they live until the build ends and hold no cycles.
        """
        with _paused_collector():
            records = self._load()
            decoded, new, used, sizes = self._decoded, self._new, self._used, self._sizes
            decode = content_records.Decoder().decode
            found: list[CachedSource | None] = []
            for key in keys:
                parts = key.split("\0", 2)
                if len(parts) != 3:
                    found.append(None)
                    continue
                rel, stats, context = parts
                mine = new.get(rel)
                if mine is not None:
                    hit = mine[2] if mine[0] == stats and mine[1] == context else None
                elif (record := records.get(rel)) is None or record[0] != stats or record[1] != context:
                    hit = None
                elif (hit := decoded.get(rel)) is None:
                    try:
                        hit = decode(record[2])
                        done = record[2][2]  # the rendered part: its HTML record's (file, offset, length)
                        if done is not None:
                            path, offset, length = done[5]
                            size = sizes.get(path)
                            if size is None:
                                size = sizes[path] = html_store.open_files([path]).get(path, -1)
                            if offset + length > size:  # the record is gone: parsed, not rendered
                                hit = replace(hit, finished=None)
                        decoded[rel] = hit
                    except Exception:  # noqa: BLE001 - a record that does not decode is a miss
                        hit = None
                if hit is not None:
                    used.add(rel)
                found.append(hit)
        return found

    def _load(self) -> dict[str, Any]:
        if self._records is None:
            forkpool.join(_WRITERS.pop(self.folder, None))  # a save still being written lands first
            self._records = self.store.load()
        return self._records

    def put(self, key: str, entry: CachedSource, flat: tuple[Any, ...] | None = None) -> None:
        """Keep ``entry`` for ``key``; ``flat``: its record, as a worker encoded it ``inline``
        (:mod:`pipeline.caching.wire`), so saving does not encode it again."""
        parts = split_key(key)
        if parts is None:
            return
        rel, stats, context = parts
        self._new[rel] = (stats, context, entry, flat)
        self._used.add(rel)
        self._decoded.pop(rel, None)

    def html_sink(self, fresh: int, kept: int) -> Path:
        """The HTML store file this build's renderers append their updates' HTML to.

        ``fresh``: updates about to be rendered, ``kept``: those reused. The newest generation
        when most of the HTML is kept (an edit); a new one when most is made afresh (a cold
        build, or one after a code change), so the save need not copy the fresh records out of
        a file full of dead ones. Made and opened here, before the renderers are forked
        (:func:`pipeline.caching.html_store.create`).
        """
        forkpool.join(_WRITERS.pop(self.folder, None))  # a save still being written lands first
        files = html_store.generations(self.folder)
        self._sink_is_new = not files or fresh > kept
        sink = html_store.new_generation(self.folder) if self._sink_is_new else files[-1]
        html_store.create(sink)
        self._sink = sink
        return sink

    def settler(self, sources: list[Source], warnings: list[tuple[Problem, ...]], kept: int) -> Settle | None:
        """The renderers put the HTML into :meth:`html_sink` (:func:`pipeline.caching.wire.settle_into`).

        None when that file cannot be made (a full disk, a read-only state folder): then the
        HTML travels with the records and the save tries the store, as without a sink.
        """
        try:
            sink = self.html_sink(len(sources), kept)
        except OSError:
            return None
        return wire.settle_into(sink, sources, warnings)

    def repair_with(self, make: html_store.Repair) -> None:
        html_store.register_repair(self.folder, make)

    def save(self, background: bool = False) -> None:
        """Write what changed: a frame on the log, or a new base when much changed.

        With ``background`` and many new entries (a cold build) the encoding and writing happen
        in a forked child while the build goes on (:func:`pipeline.forkpool.join_background`).
        """
        forkpool.join(_WRITERS.pop(self.folder, None))  # an earlier save of this folder lands first
        records = self._load()
        dropped = [rel for rel in records if rel not in self._used]
        if not self._new and not dropped and not self.store.damaged:
            return
        self._keep = None
        if background and len(self._new) >= BACKGROUND_MIN_ENTRIES:
            _WRITERS[self.folder] = forkpool.in_background(lambda: self._write(records, dropped))
        else:
            self._write(records, dropped)

    @property
    def rejected(self) -> list[str]:
        return self.store.rejected

    def _write(self, records: dict[str, Any], dropped: list[str]) -> None:
        changes, compact = self._move_html(records)
        for rel in dropped:
            changes[rel] = None
        live = len(records) - len(dropped) + sum(1 for rel in changes if rel not in records)
        if (
            compact
            or self.store.damaged
            or self.store.generation is None
            or len(changes) * 8 > live
            or self.store.log_bytes > max(self.store.base_bytes // 4, LOG_SLACK)
            or not self.store.append(changes)
        ):
            merged = {rel: record for rel, record in records.items() if rel in self._used}
            for rel, record in changes.items():
                if record is None:
                    merged.pop(rel, None)
                else:
                    merged[rel] = record
            self.store.rewrite(merged)
        if self._keep is not None:
            html_store.remove_unused(self.folder, {self._keep})  # the older files are named no more

    def _move_html(self, records: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """This build's entries as records, their fresh HTML moved into the HTML store.

        Returns the records and whether every record was moved into a new generation (when the
        store's files hold more dead records than live ones): then every kept record changed
        too, and the caller writes a new base. An entry that cannot be encoded is not stored.
        """
        tzs = content_records.Encoder()
        share = wire.Sharer().share
        fresh: list[tuple[str, str, str, CachedSource, Any]] = []  # HTML in memory: made by this build
        changes: dict[str, Any] = {}
        here: list[tuple[str, Any]] = []  # records whose HTML a renderer put in the sink
        for rel, (stats, context, entry, flat) in self._new.items():
            body = entry.finished.update.__dict__.get("_body") if entry.finished is not None else None
            if entry.finished is not None and body is None:
                fresh.append((rel, stats, context, entry, flat))
            elif flat is not None and (flat[2] is None or type(flat[2][5][1]) is int):
                changes[rel] = (
                    stats,
                    context,
                    share(flat),
                )  # encoded by its worker, its HTML (if any) stored
                if flat[2] is not None:
                    here.append((rel, changes[rel]))
            else:
                _encode_into(changes, rel, stats, context, entry, tzs)
        made_here = [entry.finished.update for *_, entry, _flat in fresh if entry.finished is not None]
        # Records kept from earlier builds: only those a lookup decoded (so of the right shape).
        kept = [
            (rel, record) for rel, record in records.items() if rel in self._used and rel not in self._new
        ]
        live = 0
        for _rel, record in (*kept, *here):
            done = record[2][2]
            if done is not None:
                live += done[5][2]
        files = html_store.generations(self.folder)
        compact = not files or _mostly_dead(files, live, made_here)
        sink = self._sink if self._sink_is_new and self._sink in files else None
        target = (sink or html_store.new_generation(self.folder)) if compact else files[-1]
        copied: list[bytes] = []
        copied_rels: list[tuple[str, Any]] = []
        if compact:
            for rel, record in kept if sink is not None else (*kept, *here):
                ref = _ref_of(record)
                if ref is None:
                    continue
                try:
                    copied.append(html_store.read_raw(html_store.HtmlRef(*ref)))
                    copied_rels.append((rel, record))
                except OSError:  # its file is gone: the update is rendered again next time
                    changes[rel] = (record[0], record[1], content_records.without_finished(record[2]))
        if compact and sink is not None:
            self._keep = str(sink)  # holds this build's HTML: the older files go once it is saved
        if not made_here and not copied:
            return changes, compact
        records_out: Iterable[bytes] = itertools.chain(copied, (_record(u) for u in made_here))
        try:
            made = html_store.append(target, records_out)
        except OSError:
            # Without its HTML an entry cannot be reused: keep only the parsed sources.
            for rel, stats, context, entry, _flat in fresh:
                _encode_into(changes, rel, stats, context, replace(entry, finished=None), tzs)
            for rel, record in copied_rels:
                changes[rel] = (record[0], record[1], content_records.without_finished(record[2]))
            return changes, compact
        for (rel, record), ref in zip(copied_rels, made, strict=False):
            location = (ref.path, ref.offset, ref.length)
            changes[rel] = (record[0], record[1], content_records.with_html_ref(record[2], location))
        for (rel, stats, context, entry, flat), ref in zip(fresh, made[len(copied_rels) :], strict=True):
            if flat is not None and flat[2] is not None:  # encoded by its worker: the HTML's place filled in
                location = (ref.path, ref.offset, ref.length)
                changes[rel] = (stats, context, share(content_records.with_html_ref(flat, location)))
            else:
                _encode_into(changes, rel, stats, context, entry, tzs, ref)  # its HTML now at ref
        if compact:
            self._keep = str(target)
        return changes, compact


def _encode_into(
    changes: dict[str, Any],
    rel: str,
    stats: str,
    context: str,
    entry: CachedSource,
    encoder: content_records.Encoder,
    html: html_store.HtmlRef | None = None,
) -> None:
    try:
        changes[rel] = (stats, context, content_records.encode(entry, encoder, html))
    except content_records.Unencodable:
        changes[rel] = None  # not stored: parsed and rendered again next time


def _ref_of(record: Any) -> tuple[str, int, int] | None:
    try:
        ref = content_records.html_ref(record[2])
    except (TypeError, IndexError):
        return None
    return ref if type(ref) is tuple and len(ref) == 3 and type(ref[0]) is str else None


class _paused_collector:
    """The cyclic garbage collector off while cache entries are made, what was made then frozen.

    Ten thousand entries are a hundred thousand small objects, none garbage and none in a
    cycle, that live until the build ends: with the collector running, making them triggered
    collection after collection over everything made so far, and every later full collection
    walked them all again. Frozen objects are still freed by reference counting;
    :func:`pipeline.forkpool.join_background`, which every build calls at its end, hands them
    back to the collector. Only a single-threaded process (a command) freezes: in the
    scheduler or a server, where jobs run in threads, whatever cyclic garbage existed at that
    moment would stay frozen until the next site build.
    """

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        forkpool.hold_frozen()
        if self.enabled:
            gc.enable()


def _mostly_dead(files: list[Path], kept: int, made_here: list[Update]) -> bool:
    """Would the generation files, with this build's records appended, be mostly dead records?

    ``kept``: the bytes of the HTML records of the entries kept from earlier builds.
    """
    written = sum(html_store.encoded_length(u.html, u.toc_html, u.feed_html) for u in made_here)
    live = kept + written
    return sum(_size(path) for path in files) + written > 2 * live + COMPACT_SLACK


def _record(update: Update) -> bytes:
    return html_store.encode(update.fingerprint, update.html, update.toc_html, update.feed_html)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_cached(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer | None = None,
    use_cache: bool = True,
    found: Found | None = None,
) -> ContentSet:
    """:func:`pipeline.reading.content.read_content` through the state folder's caches.

    Every job that reads the content (the site build, the newsletter) goes through here, so an
    unchanged update is parsed and rendered once, not once per job. The content cache is written
    in the background (:func:`pipeline.forkpool.join_background` waits for it); ``use_cache=False``
    reads and writes no cache at all. ``found``: the content folder's walk, when the caller has
    made it already (:func:`pipeline.publishing.site_build.run_build` digests it first).
    """
    if renderer is None:
        from pipeline.caching.render_cache import DIRECT_BELOW, cached_renderer  # Markdown when rendering

        renderer = cached_renderer(settings, use_cache=use_cache, direct_below=DIRECT_BELOW)
    cache = None
    if use_cache:
        folder = cache_path(settings, content_dir)
        _remove_old_folders(folder.parent.parent)
        cache = ContentCache(folder)
    content = read_content(content_dir, settings, now, renderer=renderer, cache=cache, found=found)
    if cache is not None:
        cache.save(background=True)
    return content


def _remove_old_folders(cache_root: Path) -> None:
    """Caches of an earlier format can never be hit again (v2 held the HTML in its shards)."""
    for name in EARLIER_FORMATS:
        old = cache_root / name
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
