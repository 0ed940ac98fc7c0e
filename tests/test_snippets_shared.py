"""Snippet items made once per build and shared by every snippet that shows the update.

``snippet_document`` with a shared ``items`` dict (what the builder passes) must give the bytes
of the document written the old way: every update tested against the scope, the first
``snippet_items`` kept, each item made afresh. Checked on real corpora and on generated updates
(hostile text, equal dates, updates without a fingerprint, which are never shared).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bench.corpus import write_corpus as write_bench_corpus
from bench.dense_corpus import write_dense_corpus
from pipeline.caching.fingerprint import digest
from pipeline.config.site import default_settings
from pipeline.outputs.snippets.documents import encode, scopes, snippet_document
from pipeline.outputs.snippets.items import snippet_item
from pipeline.reading.content import read_content
from pipeline.reading.model import Update
from tests.conftest import NOW, REPO
from tests.snippets_helpers import HOSTILE, NORMAL, write_corpus

TARGETS = [f"17.{n}" for n in range(1, 20)]


def _old_document(scope, updates, settings) -> bytes:
    """The document as written before items were shared: a full scan, every item made afresh."""
    chosen = [u for u in updates if scope.accepts(u)][: settings.snippet_items]
    return encode(snippet_document(scope, chosen, settings))


def _assert_shared_equals_old(updates, settings) -> dict:
    items: dict = {}
    for scope in scopes(updates, settings):
        shared = encode(snippet_document(scope, updates, settings, items))
        assert shared == _old_document(scope, updates, settings), scope.path
    return items


def _shown(updates, settings) -> int:
    return sum(
        len([u for u in updates if scope.accepts(u)][: settings.snippet_items])
        for scope in scopes(updates, settings)
    )


def test_example_content_and_snippet_corpora(tmp_path, write_update, content_dir, settings):
    example = read_content(REPO / "content", settings, NOW).updates
    items = _assert_shared_equals_old(example, settings)
    assert len(items) < _shown(example, settings), "an update shown by several snippets is made once"
    for corpus in (NORMAL, HOSTILE):
        for path in content_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        write_corpus(content_dir, corpus, write_update)
        _assert_shared_equals_old(read_content(content_dir, settings, NOW).updates, settings)


def test_bench_corpora_two_seeds_and_the_dense_corpus(tmp_path):
    settings = default_settings(snippet_items=4)
    for seed in (17, 5):
        root = write_bench_corpus(tmp_path / f"bench-{seed}", 300, seed=seed)
        updates = read_content(root, settings, datetime(2030, 1, 1, tzinfo=UTC)).updates
        items = _assert_shared_equals_old(updates, settings)
        assert len(items) < _shown(updates, settings)
    dense = write_dense_corpus(tmp_path / "dense", 120)
    _assert_shared_equals_old(
        read_content(dense, settings, datetime(2030, 1, 1, tzinfo=UTC)).updates, settings
    )


def test_the_item_is_the_one_made_for_the_update():
    """A shared item is looked up by fingerprint; an update without one is made afresh."""
    settings = default_settings()
    first, second = _update(0, "Första", "sv", ("17.1",)), _update(1, "Andra", "sv", ("17.1",))
    items = {first.fingerprint: {"stale": True}}
    scope = scopes([first], settings)[0]
    assert snippet_document(scope, [first], settings, items)["items"] == [{"stale": True}]
    blank = Update(**{**second.__dict__, "fingerprint": ""})
    items = {"": {"stale": True}}
    assert snippet_document(scope, [blank], settings, items)["items"] == [snippet_item(blank, settings)]


def _update(i: int, title: str, lang: str, targets: tuple[str, ...], when: datetime | None = None, fp=True):
    date = when or datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)
    values = {
        "id": f"tag:example.org,2026:{i}",
        "slug": f"u-{i}",
        "title": title,
        "date": date,
        "updated": date,
        "lang": lang,
        "targets": targets,
        "tags": (),
        "author": None,
        "summary": title,
        "html": f"<p>{title}</p>",
        "toc_html": "",
        "feed_html": f"<p>{title}</p>",
        "image": None,
        "source": f"u-{i}.md",
        "url": f"https://example.org/updates/u-{i}/",
    }
    fingerprint = digest(*(part for item in values.items() for part in item)) if fp else ""
    return Update(**values, fingerprint=fingerprint)


_TEXT = st.lists(
    st.sampled_from(list("aåä <>&\"'/\\`*_[]()!-:\n") + ["<script>", "&lt;b&gt;", "\u2028", "é"]),
    max_size=12,
).map("".join)


@hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(
        st.tuples(
            _TEXT,
            st.sampled_from(["sv", "en"]),
            st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True),
            st.integers(0, 5),  # few distinct hours: equal dates fall back to the id
            st.booleans(),
        ),
        max_size=25,
    ),
    size=st.integers(1, 6),
)
def test_generated_updates(specs, size):
    settings = default_settings(snippet_items=size)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    updates = [
        _update(i, title or "x", lang, tuple(targets), base + timedelta(hours=hour), fp)
        for i, (title, lang, targets, hour, fp) in enumerate(specs)
    ]
    updates.sort(key=lambda u: (-u.date.timestamp(), u.id))
    _assert_shared_equals_old(updates, settings)
