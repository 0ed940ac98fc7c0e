"""The persistent Markdown render cache: same output as rendering, hits, and distrust of bad entries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline import forkpool
from pipeline.caching.render_cache import (
    FORMAT,
    GENERATION,
    CachedRenderer,
    cache_dir,
    cached_renderer,
)
from pipeline.reading import markdown_render
from pipeline.reading.markdown_render import cache_key, render_markdown
from tests.conftest import REPO

BODIES = [
    "Hej **världen**. Se [andra](andra.md) och ![bild](media/bild.png).\n",
    "## Rubrik ett\n\nText.\n\n## Rubrik två\n\n- a\n- b\n\n## Tre\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "Fotnot[^1].\n\n[^1]: Här.\n",
    "Hej **världen**. Se [andra](andra.md) och ![bild](media/bild.png).\n",  # same as the first
]


def shard_files(folder):
    return sorted(folder.glob("shard-*.pickle"))


def test_cached_rendering_equals_direct_rendering_and_second_run_hits(settings):
    expected = [render_markdown(body) for body in BODIES]
    first = cached_renderer(settings)
    assert first(BODIES) == expected
    assert (first.stats.hits, first.stats.misses) == (0, 3)  # equal bodies are rendered once
    folder = cache_dir(settings)
    assert folder.is_relative_to(settings.state_dir / "cache")
    assert 1 <= len(shard_files(folder)) <= 3  # three entries, grouped by the first digit of their key

    second = cached_renderer(settings)
    assert second(BODIES) == expected
    assert (second.stats.hits, second.stats.misses, second.stats.rejected_paths) == (4, 0, [])


def test_an_edited_body_is_a_miss_and_the_others_still_hit(settings):
    cached_renderer(settings)(BODIES)
    edited = [*BODIES[:2], "Fotnot[^1] ändrad.\n\n[^1]: Här.\n"]
    renderer = cached_renderer(settings)
    assert renderer(edited) == [render_markdown(b) for b in edited]
    assert (renderer.stats.hits, renderer.stats.misses) == (2, 1)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated write
        lambda data: data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:],  # payload changed, checksum not
        lambda data: b"goal17-markdown-cache 0\n" + data[len(FORMAT) :],  # older format
        lambda data: b"",  # empty file
        lambda data: b"\x00\xff" * 40,  # garbage
    ],
    ids=["truncated", "bitflip", "old-format", "empty", "garbage"],
)
def test_a_corrupt_shard_is_rejected_rerendered_and_repaired(settings, damage):
    body = BODIES[1]
    cached_renderer(settings)([body])
    [path] = shard_files(cache_dir(settings))
    path.write_bytes(damage(path.read_bytes()))

    renderer = cached_renderer(settings)
    assert renderer([body]) == [render_markdown(body)]
    assert renderer.stats.misses == 1 and renderer.stats.rejected_paths == [str(path)]
    again = cached_renderer(settings)  # the shard was rewritten whole
    assert again([body]) == [render_markdown(body)] and again.stats.hits == 1


def test_key_covers_extension_settings_and_renderer_version(monkeypatch):
    # The settings are constants, hashed once per process: forget that hash around each change.
    body = BODIES[1]
    markdown_render._key_prefix.cache_clear()
    before = cache_key(body)
    monkeypatch.setattr(markdown_render, "RENDERER_VERSION", "999")
    markdown_render._key_prefix.cache_clear()
    bumped = cache_key(body)
    monkeypatch.undo()
    configs = {**markdown_render.EXTENSION_CONFIGS, "toc": {**markdown_render.EXTENSION_CONFIGS["toc"]}}
    configs["toc"]["toc_depth"] = "2-4"
    monkeypatch.setattr(markdown_render, "EXTENSION_CONFIGS", configs)
    markdown_render._key_prefix.cache_clear()
    reconfigured = cache_key(body)
    monkeypatch.undo()
    markdown_render._key_prefix.cache_clear()
    assert len({before, bumped, reconfigured}) == 3
    assert cache_key(body) == before  # the real settings again once the patch is gone


def test_key_is_the_same_in_another_process():
    """A persistent cache is useless if keys differ per process (e.g. a function's repr in them)."""
    code = "import sys; from pipeline.reading.markdown_render import cache_key; print(cache_key(sys.argv[1]))"
    other = subprocess.run(
        [sys.executable, "-c", code, BODIES[1]], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert other.stdout.strip() == cache_key(BODIES[1])


def test_misses_are_rendered_in_a_process_pool_with_identical_results(tmp_path, monkeypatch):
    # A thread left running by a test of another file in the same xdist worker would turn the
    # pool off (a process with other threads never forks): this test is about the pool's results.
    monkeypatch.setattr(forkpool.threading, "active_count", lambda: 1)
    bodies = [f"## Del {i}\n\nText {i} med [länk](u{i}.md).\n" for i in range(40)]
    renderer = CachedRenderer(tmp_path / GENERATION, pool_threshold=10)
    assert renderer(bodies) == [render_markdown(b) for b in bodies]
    assert renderer.stats.pooled
    again = CachedRenderer(tmp_path / GENERATION, pool_threshold=10)
    assert again(bodies) == [render_markdown(b) for b in bodies]
    assert not again.stats.pooled and again.stats.hits == 40


def test_no_cache_mode_writes_nothing_and_old_generations_are_removed(settings, tmp_path):
    cached_renderer(settings, use_cache=False)(BODIES)
    assert not (settings.state_dir / "cache").exists()
    old = settings.state_dir / "cache" / "markdown-r0-md3.0"
    old.mkdir(parents=True)
    (old / "entry").write_bytes(b"x")
    cached_renderer(settings)(BODIES)
    assert not old.exists() and cache_dir(settings).is_dir()


def test_progress_callback_reaches_the_total(settings):
    seen: list[tuple[int, int]] = []
    cached_renderer(settings, progress=lambda done, total: seen.append((done, total)))(BODIES)
    assert seen[-1] == (4, 4)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_threads_render_concurrently_without_mixing_documents():
    """Builds run in scheduler threads; each thread has its own converter (they keep state)."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [
        f"## Del {i}\n\n" + f"Stycke {i} med *betoning* och [länk](u{i}.md).\n\n" * 40 for i in range(60)
    ]
    expected = [render_markdown(body) for body in bodies]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(render_markdown, bodies)) == expected


def test_a_rendering_with_characters_beyond_latin_1_comes_back_from_the_store_unchanged(tmp_path):
    # The store keeps UTF-8 bytes (half the memory of such a str): every character must survive.
    bodies = [
        "## Samarbete – nästa steg\n\n”Citat” och Gdańsk, 2026–2027 … 🌍\n\n- a\n- b\n",
        "Bara latin-1: åäö.\n",
        "## Ett\n\n## Två\n\n## Tre – med tankstreck\n\nText.\n",  # a table of contents
    ]
    first = CachedRenderer(tmp_path / GENERATION)
    assert first(bodies) == [render_markdown(b) for b in bodies]
    again = CachedRenderer(tmp_path / GENERATION)
    assert again(bodies) == [render_markdown(b) for b in bodies]
    assert again.stats.hits == len(bodies) and again.stats.misses == 0
    assert again(bodies)[2].toc_html and again(bodies)[2].heading_count == 3
