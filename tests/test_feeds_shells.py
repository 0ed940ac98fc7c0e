"""The RSS and Atom shells written as text are feedgen's bytes, or the writer declines (issue 16).

:mod:`pipeline.outputs.feeds.shells` writes a document's shell without feedgen for plain words;
every page of real content (the example site, two bench corpora, the dense corpus: subscription
documents pretty-printed, archive pages not) and generated hostile words (markup, entities,
quotes, controls, astral characters, URLs that need escaping) must give exactly what feedgen
gives, or make the writer decline, in which case feedgen writes the shell as before.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import corpus, dense_corpus
from pipeline.config.site import default_settings
from pipeline.outputs.feeds import rss_atom, shells
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.model import scopes
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO

URL = "https://mal17.example.se/"
FEW = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def feedgen_or_none(write, page, settings):
    try:
        return write(page, settings)
    except ValueError:  # lxml refuses the text (a control character): the writer must decline
        return None


@pytest.fixture(scope="module")
def real_pages(tmp_path_factory) -> list:
    folders = [REPO / "content"]
    for seed in (17, 5):
        folders.append(corpus.write_corpus(tmp_path_factory.mktemp(f"bench{seed}") / "c", 160, seed=seed))
    dense = tmp_path_factory.mktemp("dense") / "c"
    dense_corpus.write_dense_corpus(dense, 120)
    folders.append(dense)
    found = []
    for folder in folders:
        settings = default_settings(state_dir=str(tmp_path_factory.mktemp("state")))
        small = dataclasses.replace(settings, feed_items=20, websub_hub="https://hub.example.org/")
        for used in (settings, small):
            content = read_content(folder, used, NOW)
            found += [(p, used) for s in scopes(content.updates, used) for p in feed_pages(s, used)]
    return found


def test_real_pages_are_written_without_feedgen_and_equal(real_pages):
    assert any(p.is_archive for p, _ in real_pages) and any(not p.is_archive for p, _ in real_pages)
    for page, settings in real_pages:
        assert shells.atom_shell(page, settings) == rss_atom.feedgen_atom_shell(page, settings), page.folder
        assert shells.rss_shell(page, settings) == rss_atom.feedgen_rss_shell(page, settings), page.folder


# Mostly printable words (markup, entities, quotes), sometimes anything at all (controls, CR).
printable = st.text(alphabet=st.sampled_from(list("aZ å–—’<>&\"';:/#?%=x!\u00a0😀")), max_size=12)
words = printable | printable | printable | st.text(max_size=8)
urls = st.sampled_from(
    ["https://mal17.example.se/", "https://ex.se/a&b/", "https://ex.se/<x>/", 'https://e.se/"q/']
)


@FEW
@example(title="a<b", description="d", organisation="o", email="e@x.se", base_url=URL, hub="", which=0)
@example(title="t", description="&amp; x", organisation="o", email="e@x.se", base_url=URL, hub="", which=1)
@example(title="t", description="d", organisation="<b>", email="e@x.se", base_url=URL, hub="", which=2)
@given(
    title=words,
    description=words,
    organisation=words,
    email=words,
    base_url=urls,
    hub=st.sampled_from(["", "https://hub.example.org/", "https://h.se/?a=1&b=2"]),
    which=st.integers(0, 10_000),
)
def test_generated_words_give_feedgens_bytes_or_decline(
    real_pages, title, description, organisation, email, base_url, hub, which
):
    page, settings = real_pages[which % len(real_pages)]
    settings = dataclasses.replace(
        settings,
        title=title,
        description=description,
        organisation=organisation,
        contact_email=email,
        base_url=base_url,
        websub_hub=hub,
    )
    (scope,) = [s for s in scopes(page.scope.updates, settings) if s.name == page.scope.name] or [None]
    if scope is None:
        return
    page = dataclasses.replace(page, scope=scope)
    for mine, theirs in (
        (shells.atom_shell, rss_atom.feedgen_atom_shell),
        (shells.rss_shell, rss_atom.feedgen_rss_shell),
    ):
        made = mine(page, settings)
        if made is not None:
            assert made == feedgen_or_none(theirs, page, settings)
