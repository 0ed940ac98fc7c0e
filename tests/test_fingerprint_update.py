"""An update's fingerprint, made from its inputs, is still a key for everything outputs show.

``update_fingerprint`` hashes the body, the context (code, templates, settings), the links'
answers and the shown fields instead of the three HTML texts. These tests change one input at a
time (a field, the body, a link target, an asset's size, the settings) and check that whenever
any field of the finished update differs, the fingerprint differs too, and that the same inputs
always give the same fingerprint.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.config.site import default_settings
from pipeline.reading.finishing import finish_update
from pipeline.reading.markdown_render import render_markdown
from pipeline.reading.model import LinkTargets, Source, Update

WIDER = Path(__file__).parent / "data" / "markdown_wider"
SHOWN = [f.name for f in fields(Update) if f.name != "fingerprint"]
WORDS = st.sampled_from(["ord", "Å", "mål", "x", "17", "&", "<b>", "*", "_", "`k`", "\\", "'", '"', ""])
LINKS = st.sampled_from(
    [
        "other.md",
        "other.md#del",
        "media/bild.png",
        "saknas.md",
        "/om/",
        "?q=1#f",
        "https://e.example/",
        "//cdn.example/x",
    ]
)


def _png(width: int, height: int, padding: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\0" * padding
    )


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two files that could be ``media/bild.png``: different sizes (bytes and pixels)."""
    folder = tmp_path_factory.mktemp("assets")
    small, large = folder / "small.png", folder / "large.png"
    small.write_bytes(_png(10, 20, 0))
    large.write_bytes(_png(30, 40, 7))
    return {"small": small, "large": large}


def _source(body: str, image: str | None) -> Source:
    when = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    return Source(
        rel="a/update.md",
        body=body,
        body_line=6,
        id="tag:t.example,2026:u",
        slug="update",
        title="Titel",
        date=when,
        updated=when,
        lang="sv",
        targets=("17.1",),
        tags=("a",),
        author="Växjö",
        summary=None,
        image=image,
        image_alt="Alt",
        image_line=4,
        draft=False,
    )


def _targets(
    assets: dict[str, Path], page: str = "https://mal17.example.se/updates/other/", asset: str = "small"
):
    # The same names in folders a/ and b/: an update moved between them still finds its links.
    return LinkTargets(
        pages={f"{folder}/other.md": page for folder in "ab"},
        assets={f"{folder}/media/bild.png": assets[asset] for folder in "ab"},
    )


def _shown(update: Update) -> tuple:
    return tuple(getattr(update, name) for name in SHOWN)


def _body(draw_parts: list[tuple[str, str | None]]) -> str:
    lines = []
    for words, link in draw_parts:
        lines.append(f"{words} [länk]({link}) {words}" if link else words)
    return "\n\n".join(lines) + "\n\nSlut a.\n"


CHANGES = [
    "title",
    "date",
    "updated",
    "lang",
    "targets",
    "tags",
    "author",
    "summary",
    "slug",
    "id",
    "rel",
    "image_alt",
    "image",
    "body",
    "body_space",
    "body_letter",
    "page_target",
    "asset_size",
    "base_url",
    "language",
]


def _changed(kind: str, source: Source, assets: dict[str, Path], text: str):
    """``source``, its targets and settings, with one input changed as ``kind`` says."""
    targets, site = _targets(assets), default_settings()
    later = source.date + timedelta(minutes=1)
    simple = {
        "title": {"title": source.title + text},
        "date": {"date": later},
        "updated": {"updated": later},
        "lang": {"lang": "en"},
        "targets": {"targets": ("17.2",)},
        "tags": {"tags": ("a", text or "b")},
        "author": {"author": None},
        "summary": {"summary": "Egen sammanfattning" + text},
        "slug": {"slug": "update-2"},
        "id": {"id": source.id + "-2"},
        "rel": {"rel": "b/update.md"},
        "image_alt": {"image_alt": "Annan" + text},
        "image": {"image": None if source.image else "media/bild.png"},
        "body": {"body": (source.body or "") + "\nMer " + text + ".\n"},
        "body_space": {"body": (source.body or "") + "\n"},
        # Same lengths everywhere (HTML, table of contents, feed copy): only the body tells.
        "body_letter": {"body": (source.body or "").replace("Slut a.", "Slut b.")},
    }
    if kind in simple:
        return replace(source, **simple[kind]), targets, site
    if kind == "page_target":
        return source, _targets(assets, page="https://mal17.example.se/updates/moved/"), site
    if kind == "asset_size":
        return source, _targets(assets, asset="large"), site
    if kind == "base_url":
        return source, targets, default_settings(base_url="https://annan.example/")
    return source, targets, default_settings(language="en")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.tuples(WORDS, st.none() | LINKS), min_size=1, max_size=4),
    image=st.sampled_from([None, "media/bild.png", "https://e.example/b.png"]),
    kind=st.sampled_from(CHANGES),
    text=WORDS,
)
def test_any_shown_difference_changes_the_fingerprint(
    assets: dict[str, Path], parts: list[tuple[str, str | None]], image: str | None, kind: str, text: str
) -> None:
    source = _source(_body(parts), image)
    base = finish_update(
        source, render_markdown(source.body or ""), default_settings(), _targets(assets)
    ).update
    again = finish_update(
        source, render_markdown(source.body or ""), default_settings(), _targets(assets)
    ).update
    assert again.fingerprint == base.fingerprint and _shown(again) == _shown(base)
    changed, targets, site = _changed(kind, source, assets, text)
    other = finish_update(changed, render_markdown(changed.body or ""), site, targets).update
    if _shown(other) != _shown(base):
        assert other.fingerprint != base.fingerprint, kind


def test_every_kind_of_change_shows_somewhere(assets: dict[str, Path]) -> None:
    """The property above is not vacuous: each change does alter what outputs show."""
    source = _source(_body([("Se", "other.md"), ("bild", "media/bild.png")]), "media/bild.png")
    base = finish_update(
        source, render_markdown(source.body or ""), default_settings(), _targets(assets)
    ).update
    for kind in CHANGES:
        changed, targets, site = _changed(kind, source, assets, "x")
        other = finish_update(changed, render_markdown(changed.body or ""), site, targets).update
        if kind in ("language", "body_space"):
            # Not a field of the update (the site's language shows in templates, which the
            # context holds), or a change nothing shows (a trailing blank line): a new key is
            # allowed (it only remakes outputs), and the context or body makes one.
            assert other.fingerprint != base.fingerprint, kind
            continue
        assert _shown(other) != _shown(base), kind
        assert other.fingerprint != base.fingerprint, kind


def _corpus(kind: str, folder: Path) -> Path:
    """Real content: the bench corpus (two seeds), the structure-dense one, the example content."""
    if kind == "dense":
        from bench.dense_corpus import write_dense_corpus

        return write_dense_corpus(folder, 150)
    if kind == "example":
        return Path(__file__).parent.parent / "content"
    return write_corpus(folder, 300, seed=int(kind.removeprefix("bench")))


@pytest.mark.parametrize("kind", ["bench17", "bench5", "dense", "example"])
def test_a_corpus_has_one_fingerprint_per_distinct_update(tmp_path: Path, kind: str) -> None:
    """Real updates: equal fingerprints only for equal updates, distinct updates never collide."""
    from pipeline import forkpool
    from pipeline.reading.content import read_content

    forkpool_workers = forkpool.WORKERS
    forkpool.WORKERS = 1
    try:
        folder = _corpus(kind, tmp_path / "c")
        updates = read_content(folder, default_settings(), datetime(2026, 11, 27, 12, tzinfo=UTC)).updates
    finally:
        forkpool.WORKERS = forkpool_workers
    by_fingerprint: dict[str, tuple] = {}
    for update in updates:
        assert by_fingerprint.setdefault(update.fingerprint, _shown(update)) == _shown(update)
    assert len({_shown(u) for u in updates}) == len(by_fingerprint) >= min(len(updates), 10)


def test_wider_markdown_bodies_have_distinct_fingerprints(assets: dict[str, Path]) -> None:
    """tests/data/markdown_wider: the same update with each body, a fingerprint per distinct HTML."""
    bodies = [path.read_text(encoding="utf-8") for path in sorted(WIDER.glob("*.md"))]
    finished = [
        finish_update(_source(body, None), render_markdown(body), default_settings(), _targets(assets)).update
        for body in bodies
    ]
    by_fingerprint: dict[str, tuple] = {}
    for update in finished:
        assert by_fingerprint.setdefault(update.fingerprint, _shown(update)) == _shown(update)
    assert len(by_fingerprint) == len({_shown(u) for u in finished}) == len(bodies) > 20


@pytest.mark.parametrize("seed", [17, 5])
def test_the_render_caches_key_gives_the_fingerprint_of_a_direct_rendering(tmp_path: Path, seed: int) -> None:
    """Finishing with the key the render cache computed (a miss, then a hit) == hashing the body.

    A wrong key on a rendering (another body's) would give another fingerprint here."""
    from pipeline import forkpool
    from pipeline.caching.render_cache import CachedRenderer
    from pipeline.reading.content import read_content
    from pipeline.reading.markdown_render import cache_key

    folder = write_corpus(tmp_path / "c", 200, seed=seed)
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    seen: list[tuple[str, str]] = []

    class Noting(CachedRenderer):
        def __call__(self, bodies: list[str], then=None):  # type: ignore[no-untyped-def]
            def noted(index: int, rendering):  # type: ignore[no-untyped-def]
                seen.append((rendering.body_key, cache_key(bodies[index])))
                return then(index, rendering)

            return super().__call__(bodies, noted)

    workers = forkpool.WORKERS
    forkpool.WORKERS = 1
    try:
        direct = read_content(folder, default_settings(), now).updates
        # The first renders and stores, the second is served by the store.
        renderers = [Noting(tmp_path / "rc", workers=1) for _ in range(2)]
        runs = [read_content(folder, default_settings(), now, renderer=r).updates for r in renderers]
    finally:
        forkpool.WORKERS = workers
    assert renderers[0].stats.misses == renderers[1].stats.hits == len(direct)
    assert len(seen) == 2 * len(direct) and all(given == made for given, made in seen)
    for updates in runs:
        assert [u.fingerprint for u in updates] == [u.fingerprint for u in direct]
        assert [_shown(u) for u in updates] == [_shown(u) for u in direct]
