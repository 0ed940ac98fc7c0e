"""A persistent cache of rendered Markdown, and rendering the misses on both cores.

Python-Markdown is most of a cold build (about 2.8 ms per update here). The content cache
(:mod:`pipeline.content_cache`) already skips unchanged files; this cache keeps renderings by
body alone — :func:`pipeline.markdown_render.cache_key`, a hash of the body, the extensions and
their settings and the renderer version — so a change of settings, code or front matter, which
invalidates the content cache, does not re-render Markdown that did not change, and an edit, a
Markdown upgrade or a renderer change can never be served an old rendering. Entries live in a
:class:`~pipeline.shard_store.ShardStore` under ``<state_dir>/cache/markdown-…/`` (never inside
outputs/), checksummed and distrusted when damaged. Entries are not pruned per build (a build
only asks for what the content cache missed); a renderer generation change drops the folder.

Misses are rendered in a process pool when there are enough of them to pay for starting it
(workers import Markdown and the results travel back pickled); a handful of misses, the usual
rebuild, are rendered in-process.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import markdown

from pipeline.forkpool import can_fork, map_forked
from pipeline.markdown_render import RENDERER_VERSION, Rendered, cache_key, render_markdown
from pipeline.settings import Settings
from pipeline.shard_store import ShardStore

FORMAT = b"goal17-markdown-cache 2\n"
# Folder per renderer generation: a version bump abandons the old folder, which is then removed.
GENERATION = f"markdown-r{RENDERER_VERSION}-md{markdown.__version__}-s2"  # s2: sharded storage
CACHE_PREFIX = "markdown-"
POOL_THRESHOLD = 50  # fewer misses than this render faster in-process than a pool starts
WORKERS = 2
CHUNK = 32  # bodies per task: big enough to amortise pickling, small enough to balance cores

Progress = Callable[[int, int], None]  # (done, total)


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
    """A ``Renderer`` for :func:`pipeline.content.read_content`: ``list[str] -> list[Rendered]``.

    ``folder=None`` renders everything (still in parallel) without reading or writing a cache,
    for ``build --no-cache``. ``progress(done, total)`` is called as bodies are done.
    """

    def __init__(
        self,
        folder: str | Path | None,
        workers: int = WORKERS,
        pool_threshold: int = POOL_THRESHOLD,
        progress: Progress | None = None,
    ):
        self.folder = Path(folder) if folder is not None else None
        self.store = (
            ShardStore(self.folder, FORMAT, accepts=lambda value: isinstance(value, Rendered))
            if self.folder is not None
            else None
        )
        self.workers = workers
        self.pool_threshold = pool_threshold
        self.progress = progress
        self.stats = CacheStats()

    def __call__(self, bodies: list[str]) -> list[Rendered]:
        results: list[Rendered | None] = [None] * len(bodies)
        keys = [cache_key(body) for body in bodies]
        missing: dict[str, list[int]] = {}  # key -> positions (equal bodies are rendered once)
        for index, key in enumerate(keys):
            cached = self.store.get(key) if self.store is not None else None
            if cached is not None:
                results[index] = cached
                self.stats.hits += 1
            else:
                missing.setdefault(key, []).append(index)
        done = self.stats.hits
        if self.progress:
            self.progress(done, len(bodies))
        todo = [(key, bodies[positions[0]]) for key, positions in missing.items()]
        self.stats.misses = len(todo)
        for key, rendered in self._render(todo):
            for index in missing[key]:
                results[index] = rendered
            if self.store is not None:
                self.store.put(key, rendered)
            done += len(missing[key])
            if self.progress:
                self.progress(done, len(bodies))
        if self.store is not None and self.folder is not None:
            self.store.save(prune=False, background=True)
            self.stats.rejected_paths = list(self.store.rejected)
            _remove_other_generations(self.folder)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, todo: list[tuple[str, str]]):
        """Yield ``(key, Rendered)`` for every item, on both cores when that pays off."""
        if self.workers < 2:
            for key, body in todo:
                yield key, render_markdown(body)
            return
        self.stats.pooled = can_fork(len(todo), self.pool_threshold)
        rendered = map_forked(
            lambda index: render_markdown(todo[index][1]),
            len(todo),
            min_items=self.pool_threshold,
            chunksize=CHUNK,
        )
        yield from zip((key for key, _ in todo), rendered, strict=True)


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
    settings: Settings, use_cache: bool = True, progress: Progress | None = None
) -> CachedRenderer:
    """The renderer a site build uses: cached under the state folder unless ``use_cache`` is off."""
    return CachedRenderer(cache_dir(settings) if use_cache else None, progress=progress)
