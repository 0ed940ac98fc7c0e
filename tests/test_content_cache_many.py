"""``ContentCache.get_many``: the lookups of one build in one loop, the same answers as ``get``."""

from __future__ import annotations

import os

from pipeline.caching import html_store
from pipeline.caching.content_cache import ContentCache, cache_path, read_cached
from pipeline.forkpool import join_background
from pipeline.locale.cli import cli_language
from pipeline.reading.content import file_keys
from pipeline.reading.files import discover
from tests.conftest import NOW


def _keys(content_dir, settings) -> list[str]:
    found = discover(content_dir)
    return file_keys(f"{settings.context_digest}\0{cli_language()}", found.markdown)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.source == b.source and a.warnings == b.warnings and (a.finished is None) == (b.finished is None)


def test_get_many_answers_as_get_does(content_dir, write_update, settings):
    for i in range(40):
        write_update(f"u{i:02d}", targets=["17.1"], date=f"2026-01-{i % 28 + 1:02d}T09:00")
    read_cached(content_dir, settings, NOW)
    join_background()
    folder = cache_path(settings, content_dir)
    keys = _keys(content_dir, settings)
    keys = [*keys, "0" * 32, "f" * 32, keys[0]]  # unknown keys, a repeated one
    many = ContentCache(folder).get_many(keys)
    one = ContentCache(folder)
    single = [one.get(key) for key in keys]
    assert len(many) == len(keys)
    assert all(_same(a, b) for a, b in zip(many, single, strict=True))
    assert sum(entry is not None and entry.finished is not None for entry in many) == 41  # the repeat too
    assert many[-2] is None and many[-3] is None

    # A cut HTML store: entries whose record lies beyond its end count as parsed, not rendered.
    (blob,) = html_store.generations(folder)
    with open(blob, "r+b") as handle:
        handle.truncate(os.path.getsize(blob) // 2)
    many = ContentCache(folder).get_many(keys)
    one = ContentCache(folder)
    single = [one.get(key) for key in keys]
    assert all(_same(a, b) for a, b in zip(many, single, strict=True))
    rendered = sum(entry is not None and entry.finished is not None for entry in many)
    assert 0 < rendered < 41

    # What get_many found counts as used: a save keeps it and drops the rest.
    cache = ContentCache(folder)
    cache.get_many(keys[:10])
    cache.save()
    join_background()
    kept = ContentCache(folder).get_many(keys[:40])
    assert [entry is not None for entry in kept] == [True] * 10 + [False] * 30
