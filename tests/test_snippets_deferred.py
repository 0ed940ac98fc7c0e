"""The snippet files that show no update, and the partner sign-up forms, are deferred (issue 16).

Made, they are the bytes the eager code made (kept here as the reference); their keys change
with what they show (the settings, the templates, the embed script's source, the demo's
target and languages) and with nothing else, so an edit build neither renders nor compares them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import corpus
from pipeline.caching.deferred import Deferred, materialize
from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs import signup_form, snippets
from pipeline.outputs.snippets.documents import encode, schema_path, scopes
from pipeline.outputs.snippets.embed import EMBED_SOURCE, WORDS_MARK, busiest_target, embed_words
from pipeline.outputs.snippets.schema import schema_document
from pipeline.reading.content import read_content
from pipeline.reading.model import Update
from tests.conftest import NOW, REPO
from tests.update_factory import plain_update

TARGETS = [t.id for t in load_taxonomy().targets]
FIXED = ("snippets/schema.json", schema_path(), "snippets/embed.js", "snippets/demo.html")


@pytest.fixture(scope="module")
def real_content(tmp_path_factory) -> list:
    found = []
    folders = [REPO / "content"]
    for seed in (17, 5):
        folders.append(corpus.write_corpus(tmp_path_factory.mktemp(f"bench{seed}") / "c", 150, seed=seed))
    for folder in folders:
        settings = default_settings(state_dir=str(tmp_path_factory.mktemp("state")))
        found.append((settings, read_content(folder, settings, NOW)))
    return found


def reference_busiest(updates) -> str:
    counts = Counter(t for u in updates for t in u.targets)
    if not counts:
        return "17.17"
    return min(counts, key=lambda t: (-counts[t], int(t.split(".")[1])))


def reference_fixed(updates, settings) -> dict[str, bytes]:
    """The four files as the eager builder made them."""
    schema = encode(schema_document(settings))
    languages = sorted({u.lang for u in updates})
    other = next((lang for lang in languages if lang != settings.language), None)
    demo = settings.env.get_template("snippets/demo.html").render(
        settings=settings,
        lang=settings.language,
        target=reference_busiest(updates),
        other_lang=other or ("en" if settings.language == "sv" else "sv"),
        has_lang_files=any(s.kind == "lang" for s in scopes(updates, settings)),
        embed_url=settings.url("snippets/embed.js"),
    )
    embed = EMBED_SOURCE.read_text(encoding="utf-8").replace(WORDS_MARK, embed_words())
    return dict(zip(FIXED, (schema, schema, embed.encode(), demo.encode()), strict=True))


def test_fixed_snippet_files_are_the_eager_bytes(real_content):
    for settings, content in real_content:
        for updates in (content.updates, content.updates[:1], []):
            files = snippets.build(updates, settings)
            assert all(isinstance(files[path], Deferred) for path in FIXED)
            assert {path: materialize(files[path]) for path in FIXED} == reference_fixed(updates, settings)


def test_fixed_snippet_keys_follow_what_they_show(real_content):
    settings, content = real_content[0]
    keys = {path: snippets.build(content.updates, settings)[path].key for path in FIXED}
    edited = [dataclasses.replace(content.updates[0], title="Ny rubrik"), *content.updates[1:]]
    assert {path: snippets.build(edited, settings)[path].key for path in FIXED} == keys
    other = dataclasses.replace(settings, title="Annan titel")
    assert all(snippets.build(content.updates, other)[path].key != keys[path] for path in FIXED)
    only_swedish = [u for u in content.updates if u.lang == "sv"]
    assert snippets.build(only_swedish, settings)["snippets/demo.html"].key != keys["snippets/demo.html"]


def make(n: int, targets, lang: str) -> Update:
    return plain_update(n, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n), targets, lang)


@hypothesis_settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(TARGETS), max_size=4), st.booleans()), max_size=40))
def test_busiest_target_counts_as_before(items):
    """Counted per distinct tuple of targets (or list, which is not hashable), as per update."""
    updates = [make(n, tuple(t) if as_tuple else list(t), "sv") for n, (t, as_tuple) in enumerate(items)]
    assert busiest_target(updates) == reference_busiest(updates)


def test_signup_forms_deferred_are_the_built_forms():
    for settings in (default_settings(), dataclasses.replace(default_settings(), language="en")):
        built = signup_form.build([], settings)
        described = signup_form.describe([], settings)
        assert list(described) == list(built)
        assert {path: materialize(item) for path, item in described.items()} == built
        other = signup_form.describe([], dataclasses.replace(settings, title="Annan titel"))
        assert all(other[path].key != item.key for path, item in described.items())
        assert len({item.key for item in described.values()}) == len(described)
