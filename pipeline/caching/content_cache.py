"""The persistent content cache: parsed sources and finished updates, in the state folder.

Keyed by a digest of a file's stats, its path, the settings and the code (see
:func:`pipeline.reading.content.read_content`), so a hit is exactly what parsing and rendering again
would give. Stored in a :class:`~pipeline.caching.shard_store.ShardStore`; entries a build did not use
are dropped when it saves, so the cache does not grow with every edit. The updates' HTML is kept
apart (:mod:`pipeline.caching.html_store`) and read only for the outputs a build remakes.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pipeline.caching import html_store
from pipeline.caching.fingerprint import digest
from pipeline.caching.shard_store import ShardStore
from pipeline.config.site import Settings
from pipeline.reading.content import read_content
from pipeline.reading.files import Found
from pipeline.reading.model import CachedSource, ContentSet, Finished, Renderer, Update

FORMAT = b"goal17-content-cache 4\n"
FOLDER_NAME = "content-v4"  # v4: a feed_html equal to html is stored once in the HTML store
EARLIER_FORMATS = ("content-v2", "content-v3")
# A generation file is copied afresh when its dead records outweigh the live ones by this much.
COMPACT_SLACK = 4 << 20


def cache_path(settings: Settings, content_dir: str | Path) -> Path:
    """One cache per content folder: sites sharing a state folder must not prune each other's."""
    return Path(settings.state_dir) / "cache" / FOLDER_NAME / digest(str(Path(content_dir).absolute()))


class ContentCache:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.store = ShardStore(folder, FORMAT, accepts=lambda value: isinstance(value, CachedSource))
        self._sizes: dict[str, int] = {}  # HTML store file -> its size (-1: gone), once opened
        self._keep: str | None = None  # the new generation a save made: the others go after it

    def get(self, key: str) -> CachedSource | None:
        """The entry for ``key``; one whose HTML record is gone counts as parsed, not rendered."""
        return self._checked(self.store.get(key))

    def get_many(self, keys: list[str]) -> list[CachedSource | None]:
        """:meth:`get` of each key (a build asks for every content file's at once)."""
        return [self._checked(entry) for entry in self.store.get_many(keys)]

    def _checked(self, entry: CachedSource | None) -> CachedSource | None:
        if entry is None or entry.finished is None:
            return entry
        body = entry.finished.update.__dict__.get("_body")
        if type(body) is html_store.HtmlRef:
            size = self._sizes.get(body.path)
            if size is None:
                size = self._sizes[body.path] = html_store.open_files([body.path]).get(body.path, -1)
            if body.offset + body.length > size:
                return replace(entry, finished=None)
        return entry

    def put(self, key: str, entry: CachedSource) -> None:
        self.store.put(key, entry)

    def repair_with(self, make: html_store.Repair) -> None:
        html_store.register_repair(self.folder, make)

    def save(self, background: bool = False) -> None:
        self._keep = None
        self.store.save(prune=True, background=background, prepare=self._move_html, finish=self._tidy)

    @property
    def rejected(self) -> list[str]:
        return self.store.rejected

    def _move_html(self) -> set[str]:
        """Put the fresh updates' HTML in the HTML store and keep references in their entries.

        Runs where the shards are written (a forked child for a big save). When the store's
        files hold more dead records than live ones, every live record is copied into a new
        generation, every shard rewritten and the older files removed.
        """
        shards = self.store.all_shards()
        fresh: list[tuple[str, str, CachedSource]] = []  # HTML in memory: made by this build
        kept: list[tuple[str, str, CachedSource]] = []  # HTML in the store already
        refs: list[html_store.HtmlRef] = []
        for name, entries in shards.items():
            for key, entry in entries.items():
                if entry.finished is None:
                    continue
                body = entry.finished.update.__dict__.get("_body")
                if body is None:
                    fresh.append((name, key, entry))
                elif isinstance(body, html_store.HtmlRef):
                    kept.append((name, key, entry))
                    refs.append(body)
        made_here = [entry.finished.update for _, _, entry in fresh if entry.finished is not None]
        files = html_store.generations(self.folder)
        records: Iterable[bytes] = (_record(update) for update in made_here)  # encoded as written
        dirty = {name for name, _, _ in fresh}
        compact = not files or _mostly_dead(files, refs, made_here)
        copied: list[bytes] = []
        if compact:
            target = html_store.new_generation(self.folder)
            for (name, key, entry), ref in zip(kept, refs, strict=True):
                try:
                    copied.append(html_store.read_raw(ref))
                except OSError:  # its file is gone: the update is rendered again next time
                    shards[name][key] = replace(entry, finished=None)
                    continue
                fresh.insert(len(copied) - 1, (name, key, entry))
            records = itertools.chain(copied, records)
            dirty |= {name for name, _, _ in kept}
        else:
            target = files[-1]
        if not made_here and not copied:
            return dirty
        try:
            made = html_store.append(target, records)
        except OSError:
            # Without its HTML an entry cannot be reused: keep only the parsed sources.
            for name, key, entry in fresh:
                shards[name][key] = replace(entry, finished=None)
            return dirty
        for (name, key, entry), ref in zip(fresh, made, strict=True):
            finished = entry.finished
            if finished is not None:  # the constructors, not replace(): 10,000 entries cold
                lazy = Finished(
                    finished.update.with_body(ref), finished.lookups, finished.image_size, finished.warnings
                )
                shards[name][key] = CachedSource(entry.source, entry.warnings, lazy)
        if compact:
            self._keep = str(target)
        return dirty

    def _tidy(self) -> None:
        """After a new generation's shards are written: the older files are no longer named.

        Readers that loaded the older files keep them open (:func:`html_store.open_files`).
        """
        if self._keep is not None:
            html_store.remove_unused(self.folder, {self._keep})


def _mostly_dead(files: list[Path], refs: list[html_store.HtmlRef], made_here: list[Update]) -> bool:
    """Would the generation files, with this build's records appended, be mostly dead records?"""
    written = sum(html_store.encoded_length(u.html, u.toc_html, u.feed_html) for u in made_here)
    live = sum(ref.length for ref in refs) + written
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
