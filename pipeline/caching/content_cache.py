"""The persistent content cache: parsed sources and finished updates, in the state folder.

Keyed by a digest of a file's stats, its path, the settings and the code (see
:func:`pipeline.reading.content.read_content`), so a hit is exactly what parsing and rendering again
would give. Stored in a :class:`~pipeline.caching.shard_store.ShardStore`; entries a build did not use
are dropped when it saves, so the cache does not grow with every edit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipeline.caching.fingerprint import digest
from pipeline.caching.render_cache import cached_renderer
from pipeline.caching.shard_store import ShardStore
from pipeline.config.site import Settings
from pipeline.reading.content import read_content
from pipeline.reading.model import CachedSource, ContentSet, Renderer

FORMAT = b"goal17-content-cache 2\n"
FOLDER_NAME = "content-v2"


def cache_path(settings: Settings, content_dir: str | Path) -> Path:
    """One cache per content folder: sites sharing a state folder must not prune each other's."""
    return Path(settings.state_dir) / "cache" / FOLDER_NAME / digest(str(Path(content_dir).absolute()))


class ContentCache:
    def __init__(self, folder: str | Path):
        self.store = ShardStore(folder, FORMAT, accepts=lambda value: isinstance(value, CachedSource))

    def get(self, key: str) -> CachedSource | None:
        return self.store.get(key)

    def put(self, key: str, entry: CachedSource) -> None:
        self.store.put(key, entry)

    def save(self, background: bool = False) -> None:
        self.store.save(prune=True, background=background)

    @property
    def rejected(self) -> list[str]:
        return self.store.rejected


def read_cached(
    content_dir: str | Path,
    settings: Settings,
    now: datetime,
    renderer: Renderer | None = None,
    use_cache: bool = True,
) -> ContentSet:
    """:func:`pipeline.reading.content.read_content` through the state folder's caches.

    Every job that reads the content (the site build, the newsletter) goes through here, so an
    unchanged update is parsed and rendered once, not once per job. The content cache is written
    in the background (:func:`pipeline.forkpool.join_background` waits for it); ``use_cache=False``
    reads and writes no cache at all.
    """
    if renderer is None:
        renderer = cached_renderer(settings, use_cache=use_cache)
    cache = ContentCache(cache_path(settings, content_dir)) if use_cache else None
    content = read_content(content_dir, settings, now, renderer=renderer, cache=cache)
    if cache is not None:
        cache.save(background=True)
    return content
