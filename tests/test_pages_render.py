"""Update pages rendered through ``templating.render`` equal ``Template.render`` (issue 16).

``pages.build`` hands each update page's values to :func:`pipeline.outputs.templating.render` in
one dict that already holds the template's globals, instead of letting ``Template.render`` copy
the globals and the values again for each of 10,000 pages, and takes its feed links from a
cache. The reference below is the page as ``Template.render`` makes it from the same values, on
the example site, a bench corpus and hostile update values, in every language.
"""

from __future__ import annotations

import dataclasses

import jinja2
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from markupsafe import Markup

from bench.corpus import write_corpus
from pipeline.caching.deferred import materialize
from pipeline.config.site import LANGUAGES, load_settings
from pipeline.outputs import pages
from pipeline.outputs.pages.layout import Layout, cached_display_date, feed_links, subscribe_url
from pipeline.outputs.pages.links import in_site, relative_html, relative_root
from pipeline.outputs.templating import render
from pipeline.reading.content import read_content
from pipeline.reading.model import Image, Update
from tests.conftest import NOW, REPO


def reference_page(update: Update, settings) -> bytes:
    """The update's page as ``Template.render`` makes it (the builder's values, passed as
    keywords; fresh feed links, a fresh layout)."""
    base = settings.base_url
    helpers = {
        "tz": settings.tz,
        "display_date": cached_display_date,
        "in_site": lambda url, root: in_site(url, base, root),
    }
    chrome = Layout(settings, update.lang, helpers)
    root = relative_root(update.path)
    html = settings.env.get_template("pages/update.html").render(
        **helpers,
        settings=settings,
        site_lang=settings.language,
        subscribe_url=subscribe_url(settings),
        _=chrome.gettext,
        chrome=chrome,
        badges=chrome.badges,
        update=update,
        lang=update.lang,
        canonical=update.url,
        feeds=tuple(feed_links.__wrapped__(root)),
        feed_title="",
        root=root,
        body=Markup(relative_html(update.html, base, update.path)),
        toc=Markup(relative_html(update.toc_html, base, update.path)),
    )
    return html.encode("utf-8")


def built_pages(updates: list[Update], settings) -> dict[str, bytes]:
    files = pages.build(updates, settings)
    return {f"{u.path}index.html": materialize(files[f"{u.path}index.html"]) for u in updates}


@pytest.fixture(scope="module")
def site():
    settings = load_settings(REPO / "site.toml")
    return settings, list(read_content(REPO / "content", settings, NOW).updates)


def test_real_update_pages_equal_template_render(tmp_path, site):
    settings, example = site
    corpus = write_corpus(tmp_path / "corpus", 40, seed=5)
    for updates in (example, list(read_content(corpus, settings, NOW).updates)):
        made = built_pages(updates, settings)
        for update in updates:
            assert made[f"{update.path}index.html"] == reference_page(update, settings), update.source


hostile_text = st.lists(
    st.sampled_from([*"<&\"'> aé", "שלום", "مرحبا", "\u200f", "\u202e", "{{", "%}", "<root/>"]), max_size=12
).map("".join)


@given(
    title=hostile_text,
    summary=hostile_text,
    author=st.none() | hostile_text,
    tags=st.lists(hostile_text, max_size=3).map(tuple),
    image=st.none()
    | st.builds(
        Image,
        url=st.sampled_from(["https://mal17.example.se/media/x.png", "https://elsewhere.example/<a>.png"]),
        alt=hostile_text,
        width=st.none() | st.integers(1, 2000),
        height=st.integers(1, 2000),
    ),
    lang=st.sampled_from(LANGUAGES),
    toc=st.booleans(),
    updated_later=st.booleans(),
    pick=st.integers(0, 1000),
)
@hsettings(max_examples=150, deadline=None)
def test_hostile_update_values_render_as_template_render(
    site, title, summary, author, tags, image, lang, toc, updated_later, pick
):
    settings, example = site
    update = example[pick % len(example)]
    update = dataclasses.replace(
        update,
        title=title,
        summary=summary,
        author=author,
        tags=tags,
        image=image,
        lang=lang,
        toc_html=update.toc_html if toc else "",
        updated=update.date.replace(year=update.date.year + 1) if updated_later else update.date,
    )
    page = built_pages([update], settings)[f"{update.path}index.html"]
    assert page == reference_page(update, settings)


def test_render_reports_template_errors_as_template_render_does(settings):
    template = settings.env.from_string("{{ missing.attribute }}")
    with pytest.raises(jinja2.UndefinedError) as direct:
        template.render({})
    with pytest.raises(jinja2.UndefinedError) as through:
        render(template, dict(template.globals))
    assert str(through.value) == str(direct.value)
    words = settings.env.from_string("{{ a }} {{ _('Publicerad') }} {{ lang }}")
    for lang in LANGUAGES:
        assert render(words, {**words.globals, "a": "<&>", "lang": lang}) == words.render(a="<&>", lang=lang)


class _Html(str):
    def __html__(self) -> str:
        return "<i>own</i>"


@given(text=st.text(alphabet="<&>\"'aé\x00\u202e", max_size=20), kind=st.sampled_from([str, Markup, _Html]))
@hsettings(max_examples=300, deadline=None)
def test_as_markup_is_markups_constructor(text, kind):
    """The body and contents reach the page as ``Markup``: the same value and type either way."""
    value = kind(text)
    made, wanted = pages.as_markup(value), Markup(value)
    assert (type(made), made) == (type(wanted), wanted)
