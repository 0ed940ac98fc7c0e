"""Listing rows: each made once per build, on both cores, and kept in the state folder.

An update's row (``pages/_item.html`` ``row``) is joined into every listing page it is on (up to
eight). Publishing makes pages in forked workers, each with its own memory, so rows rendered on
demand were rendered once per worker (15,800 renders for 10,000 updates). And an update that
opens a new archive page changes "Sida n av M" on every page of the site listing: ≈ 250 pages
remade, ≈ 10,000 rows rendered again for one new update.

So :class:`RowMaker` is a :class:`~pipeline.caching.deferred.Shared` maker: publishing hands it
the rows of every listing page it is about to make, before its workers fork. It takes the rows it
kept from earlier builds, renders the rest (in a forked pool when there are many), and appends
the new ones to its :class:`~pipeline.caching.record_store.RecordStore`. The workers then inherit
every row. A build that needs few rows (an edit remakes a few listing pages) renders them rather
than read the store: that would cost more.

A row is kept under the update's fingerprint, in a folder of its context digest (code,
templates, settings): the fingerprint covers every field the row shows (title, date, summary,
language, targets, image and its size, slug) and the context everything else it reads (the site's
language and time zone, the base URL, the taxonomy, the translations, the row template). So
within a folder equal keys are equal rows (a key made per row cost 15 ms at 10,000 updates), a
record from another build or generation is as good as a fresh render, and a damaged, cut or
foreign file only costs renders. Each context has its own folder
(two sites' settings sharing a state folder do not evict each other's rows; two content folders
built with the same settings share one, and a new base keeps only the rows of the build that
wrote it, so the other's next big build renders its rows again).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline import forkpool
from pipeline.caching.fingerprint import digest
from pipeline.caching.record_store import RecordStore
from pipeline.reading.model import Update

FORMAT = b"goal17-listing-rows 1\n"
FOLDER_NAME = "rows-v1"
KEEP_CONTEXTS = 4  # row folders of other contexts (settings, code, templates) kept beside this one
# Fewer rows than this are rendered in-process: a pool costs ≈ 0.1 s of CPU and 20–50 ms to
# start at 10,000 updates, and 2,000 rows take 50 ms (an add remakes ≈ 1,300 rows' pages).
POOL_MIN = 2000
POOL_BLOCKS = 16  # the rows go to the workers in this many blocks
LOAD_RATIO = 10  # the store is read only by builds needing at least 1/LOAD_RATIO of the rows
# The log is folded into a new base once it is larger than a quarter of the base or this.
LOG_SLACK = 256 << 10


def rows_folder(state_dir: str | Path, context: str) -> Path:
    """The rows made under one context (:attr:`~pipeline.config.site.Settings.context_digest`)."""
    return Path(state_dir) / "cache" / FOLDER_NAME / digest(context, "listing rows")


class RowMaker:
    """Every row of a build, made at most once, from the store when it holds it.

    ``render(update)`` makes a row; ``folder`` is the store's (None: rows are never read nor
    written); ``updates`` are all the build's updates, set when the listings are described: a
    new base keeps their rows only.
    """

    def __init__(self, render: Callable[[Update], str], folder: Path | None) -> None:
        self._render = render
        self.updates: Sequence[Update] = ()
        self._folder = folder
        self._rows: dict[str, str] = {}  # update slug -> its row
        self._store: RecordStore | None = None
        self._stored: dict[str, Any] = {}  # fingerprint -> row, once loaded
        self.rendered = 0  # rows this process rendered: tests count them

    def row(self, update: Update) -> str:
        """The update's row, rendered here unless it was made already."""
        text = self._rows.get(update.slug)
        if text is None:
            text = self._rows[update.slug] = self._render(update)
            self.rendered += 1
        return text

    def prepare(self, wanted: list[Sequence[Update]], reuse: bool) -> None:
        """Make every row of the pages about to be made: from the store, else on both cores."""
        rows = self._rows
        need: dict[str, Update] = {}
        for items in wanted:
            for update in items:
                if update.slug not in rows:
                    need[update.slug] = update
        if not need:
            return
        # Reading the store costs about a tenth of rendering each row it holds (10,000 rows:
        # 28 ms against 0.25 s): an edit build's few hundred rows are rendered, not looked up,
        # and are missing from the store until a build that needs many rows finds them missing.
        keep = self._folder is not None and reuse and len(need) * LOAD_RATIO >= len(self.updates)
        keys: dict[str, str] = {}
        if keep:
            stored = self._load()
            for slug, update in need.items():
                if update.fingerprint:  # no fingerprint: nothing says two such rows are equal
                    key = keys[slug] = update.fingerprint
                    text = stored.get(key)
                    if type(text) is str:
                        rows[slug] = text
        missing = [update for slug, update in need.items() if slug not in rows]
        fresh: dict[str, str] = {}
        for update, text in zip(missing, self._render_all(missing), strict=True):
            rows[update.slug] = text
            self.rendered += 1
            key = keys.get(update.slug)
            if key is not None:
                fresh[key] = text
        if keep and (fresh or (self._store is not None and self._store.damaged)):
            self._save(fresh)

    def _render_all(self, updates: list[Update]) -> list[str]:
        """The rows of ``updates``, in blocks on both cores when there are many: a block's rows
        come back as one list, not one result each (a tenth of the pool's cost was results)."""
        render = self._render
        if len(updates) < POOL_MIN:
            return [render(update) for update in updates]
        size = -(-len(updates) // POOL_BLOCKS)

        def block(index: int) -> list[str]:
            return [render(update) for update in updates[index * size : (index + 1) * size]]

        blocks = -(-len(updates) // size)
        return [text for texts in forkpool.map_forked(block, blocks, 0, 1) for text in texts]

    def _load(self) -> dict[str, Any]:
        if self._store is None:
            assert self._folder is not None
            self._store = RecordStore(self._folder, FORMAT)
            self._stored = self._store.load()
        return self._stored

    def _save(self, fresh: dict[str, str]) -> None:
        """``fresh`` rows as one frame on the log, or a new base of this build's rows when many
        are new (a cold build, a new setting), the store was damaged or the log has grown."""
        store = self._store
        assert store is not None and self._folder is not None
        stored = self._stored
        if not (
            store.damaged
            or store.generation is None
            or len(fresh) * 8 > len(stored)
            or store.log_bytes > max(store.base_bytes // 4, LOG_SLACK)
        ) and store.append(fresh):
            stored.update(fresh)
            return
        current = {u.fingerprint for u in self.updates if u.fingerprint}
        merged = {key: text for key, text in stored.items() if key in current}
        merged.update(fresh)
        if store.rewrite(merged):
            self._stored = merged
            _remove_other_contexts(self._folder)


def _remove_other_contexts(folder: Path) -> None:
    """Keep the rows of the :data:`KEEP_CONTEXTS` most recently written other contexts; a code or
    template change makes a new context, whose old folder nothing reads again."""
    with contextlib.suppress(OSError):
        others = [p for p in folder.parent.iterdir() if p != folder and p.is_dir()]
        others.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in others[KEEP_CONTEXTS:]:
            shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.utime(folder)
