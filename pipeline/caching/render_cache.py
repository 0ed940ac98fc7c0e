"""A persistent cache of rendered Markdown, and rendering the misses on both cores.

Python-Markdown is most of a cold build (about 2.8 ms per update here). The content cache
(:mod:`pipeline.caching.content_cache`) already skips unchanged files; this cache keeps renderings by
body alone — :func:`pipeline.reading.markdown_render.cache_key`, a hash of the body, the extensions and
their settings and the renderer version — so a change of settings, code or front matter, which
invalidates the content cache, does not re-render Markdown that did not change, and an edit, a
Markdown upgrade or a renderer change can never be served an old rendering. Entries live in a
:class:`~pipeline.caching.shard_store.ShardStore` under ``<state_dir>/cache/markdown-…/`` (never inside
outputs/), checksummed and distrusted when damaged. Entries are not pruned per build (a build
only asks for what the content cache missed); a renderer generation change drops the folder.

Misses are rendered in a forked pool when there is enough work to pay for starting it, together
with whatever the caller does next with each rendering (``then``: finishing the update), so only
results travel back; a handful of misses, the usual rebuild, are rendered in-process.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.caching.shard_store import ShardStore
from pipeline.config.site import Settings
from pipeline.forkpool import can_fork, map_forked
from pipeline.reading.markdown_fast_library import MARKDOWN_VERSION
from pipeline.reading.markdown_render import RENDERER_VERSION, Rendered, cache_key, render_markdown
from pipeline.reading.model import AfterRender, Settle

FORMAT = b"goal17-markdown-cache 3\n"  # 3: entries are UTF-8 bytes (Entry)
# Folder per renderer generation: a version bump abandons the old folder, which is then removed.
GENERATION = f"markdown-r{RENDERER_VERSION}-md{MARKDOWN_VERSION}-s3"  # s2: sharded, s3: bytes
CACHE_PREFIX = "markdown-"
POOL_THRESHOLD = 50  # fewer misses than this render faster in-process than a pool starts
# A build asks for fewer bodies than this only when the content cache had everything else (an
# edit, an addition): then looking each one up loads a shard of ~600 renderings (4 MB at
# 10,000 updates) and storing it rewrites that shard, 20-30 ms against 1-3 ms of rendering.
# Such a build renders directly; the store only misses a few bodies the next time it matters
# (a settings or code change re-renders everything the content cache had).
DIRECT_BELOW = 8
WORKERS = 2
CHUNK = 32  # bodies per task: big enough to amortise pickling, small enough to balance cores

ProgressCallback = Callable[[int, int], None]  # (done, total)
# What the store keeps of a rendering: its HTML and table of contents as UTF-8, and its heading
# count. Bytes, not str: one character beyond Latin-1 (an en dash, a typographic quote, "ń")
# makes a Python string two bytes per character, and a cold build holds every fresh rendering
# until the store is saved, 80 MB at 10,000 such updates; bytes also travel back from the
# workers and into the shards as a plain copy instead of an encoding.
Entry = tuple[bytes, bytes, int]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    pooled: bool = False
    rejected_paths: list[str] = field(default_factory=list)  # damaged shards, ignored and rewritten


def cache_dir(settings: Settings) -> Path:
    """Where rendered Markdown lives for this site: the state folder, outside every output."""
    return Path(settings.state_dir) / "cache" / GENERATION


class CachedRenderer:
    """A :class:`pipeline.reading.model.Renderer` that keeps its renderings in the state folder.

    ``folder=None`` renders everything (still in parallel) without reading or writing a cache,
    for ``build --no-cache``. ``progress(done, total)`` is called as bodies are done. A call
    with fewer than ``direct_below`` bodies renders them without reading or writing the store
    (see :data:`DIRECT_BELOW`).
    """

    def __init__(
        self,
        folder: str | Path | None,
        workers: int = WORKERS,
        pool_threshold: int = POOL_THRESHOLD,
        progress: ProgressCallback | None = None,
        direct_below: int = 0,
    ):
        self.folder = Path(folder) if folder is not None else None
        self.direct_below = direct_below  # fewer bodies than this: rendered without the store
        self.store = ShardStore(self.folder, FORMAT, accepts=_is_entry) if self.folder is not None else None
        self.workers = workers
        self.pool_threshold = pool_threshold
        self.progress = progress
        self.stats = CacheStats()

    def __call__(
        self, bodies: list[str], then: AfterRender | None = None, settle: Settle | None = None
    ) -> list[Any]:
        """``then(i, rendering)`` for every body (the renderings themselves without ``then``).

        Hits come from the store; misses are rendered, each once per distinct body in the count,
        and ``then`` runs in the same worker, so a cold build renders and finishes each update
        in one pass over both cores. ``settle``: see :class:`pipeline.reading.model.Renderer`
        (batches of :data:`CHUNK` bodies).
        """
        store = self.store if len(bodies) >= self.direct_below else None
        # An empty store (a cold build) misses every key: then each body's key is made where it is
        # rendered, on both cores, and comes back with its rendering (10,000 keys took 0.1 s here).
        later = store is not None and store.is_empty()
        keys = [cache_key(body) for body in bodies] if store is not None and not later else []
        known: list[Entry | None] = [store.get(key) for key in keys] if keys else [None] * len(bodies)
        missing = [index for index, rendering in enumerate(known) if rendering is None]
        self.stats.hits = len(bodies) - len(missing)
        follow = then if then is not None else _itself

        def work(index: int) -> tuple[tuple[str, Entry] | None, Any]:
            entry = known[index]
            fresh = None
            # The key (when there is one) goes with the rendering: finishing hashes it, not the body.
            key = keys[index] if keys else cache_key(bodies[index]) if later else ""
            if entry is None:
                rendering = render_markdown(bodies[index], key)
                fresh = (key, _pack(rendering)) if store is not None else None
            else:
                rendering = _unpack(entry, key)
            return fresh, follow(index, rendering)

        if self.progress:
            self.progress(0, len(bodies))
        results: list[Any] = []
        made: set[str] = set()  # the keys rendered, when they were made in the workers
        # Work worth a worker: every body when something follows, else only the misses.
        busy = len(bodies) if then is not None else len(missing)
        for index, (fresh, result) in enumerate(self._map(work, len(bodies), busy, settle)):
            if fresh is not None and store is not None:
                store.put(*fresh)
                if later:
                    made.add(fresh[0])
            results.append(result)
            if self.progress:
                self.progress(index + 1, len(bodies))
        # Equal bodies count once; on an empty store the keys were made by the workers.
        if later:
            self.stats.misses = len(made)
        else:
            self.stats.misses = len({keys[index] for index in missing} if keys else set(bodies))
        if store is not None and self.folder is not None:
            store.save(prune=False, background=True)
            self.stats.rejected_paths = list(store.rejected)
            _remove_other_generations(self.folder)
        return results

    def _map(
        self,
        work: Callable[[int], tuple[Any, Any]],
        count: int,
        busy: int,
        settle: Settle | None = None,
    ) -> Iterator[tuple[Any, Any]]:
        """``work(i)`` for every index, on both cores when ``busy`` of them pay for a pool.

        With ``settle``, the work goes out in batches of :data:`CHUNK` indexes, each settled
        where it was made before it travels back.
        """
        self.stats.pooled = self.workers >= 2 and can_fork(busy, self.pool_threshold)
        if settle is None:
            if not self.stats.pooled:
                return (work(index) for index in range(count))
            return map_forked(work, count, min_items=0, chunksize=CHUNK)

        def batch(number: int) -> list[tuple[Any, Any]]:
            indices = range(number * CHUNK, min(count, (number + 1) * CHUNK))
            done = [work(index) for index in indices]
            settled = settle(indices, [result for _, result in done])
            return [(fresh, result) for (fresh, _), result in zip(done, settled, strict=True)]

        batches = -(-count // CHUNK)
        if not self.stats.pooled:
            return (item for number in range(batches) for item in batch(number))
        return (item for made in map_forked(batch, batches, min_items=0, chunksize=1) for item in made)


def _pack(rendering: Rendered) -> Entry:
    return (
        rendering.html.encode("utf-8", "surrogatepass"),
        rendering.toc_html.encode("utf-8", "surrogatepass"),
        rendering.heading_count,
    )


def _unpack(entry: Entry, body_key: str = "") -> Rendered:
    html, toc, headings = entry
    return Rendered(
        html=html.decode("utf-8", "surrogatepass"),
        toc_html=toc.decode("utf-8", "surrogatepass"),
        heading_count=headings,
        body_key=body_key,
    )


def _is_entry(value: object) -> bool:
    """What a shard may hold: anything else (an older format, a damaged file) is ignored."""
    return (
        type(value) is tuple
        and len(value) == 3
        and type(value[0]) is bytes
        and type(value[1]) is bytes
        and type(value[2]) is int
    )


def _itself(index: int, rendering: Rendered) -> Rendered:
    return rendering


def _remove_other_generations(folder: Path) -> None:
    """Drop cache folders of other renderer generations: they can never be hit again."""
    parent = folder.parent
    try:
        siblings = list(parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        if sibling.name.startswith(CACHE_PREFIX) and sibling.name != folder.name and sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)


def cached_renderer(
    settings: Settings,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
    direct_below: int = 0,
) -> CachedRenderer:
    """The renderer a site build uses: cached under the state folder unless ``use_cache`` is off.

    ``direct_below``: see :class:`CachedRenderer` (a site build passes :data:`DIRECT_BELOW`).
    """
    folder = cache_dir(settings) if use_cache else None
    return CachedRenderer(folder, progress=progress, direct_below=direct_below)
