"""RSS and Atom entries written once as text and spliced: the bytes of documents written whole."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from feedgen.entry import formatRFC2822  # feedgen.util alone fails: it needs lxml.etree loaded
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.entries import cached_entry, feedgen_date
from pipeline.outputs.feeds.model import ARCHIVE_FORMATS, scopes
from pipeline.outputs.feeds.rss_atom import render_atom, render_rss
from pipeline.reading.content import read_content
from pipeline.reading.model import Image, Update
from tests.conftest import NOW
from tests.feeds_helpers import write_corpus
from tests.feeds_whole import whole_document

RENDER = {"rss.xml": render_rss, "atom.xml": render_atom}

# Pieces of hostile text: what ends CDATA, markup and entities (real and escaped-looking), quotes,
# the control characters the pipeline lets through (tab, line feed, carriage return) and ones
# clean_text removes (C1, U+FFFD), right-to-left text and marks, astral characters and flags.
PIECES = [
    "]]>",
    "]]",
    "&",
    "<",
    ">",
    "&amp;",
    "&lt;",
    "&#x3C;",
    "&#13;",
    "<b>fet</b>",
    "</script>",
    "<![CDATA[",
    "<!--",
    '"',
    "'",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x85",
    "\x7f",
    "\ufffd",
    "\u202e",
    "\u200f",
    "שלום",
    "مرحبا بالعالم",
    "🎉",
    "\U0001f1f8\U0001f1ea",
    "𝔘𝔫𝔦",
    "åäö é",
    " ",
    "ord",
    "17.9",
]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
TITLE = HOSTILE.filter(lambda t: any(c.isalnum() for c in t))  # the pipeline refuses empty titles
# feed_html is sanitized HTML: it never holds a character XML forbids.
HTML = st.lists(
    st.sampled_from([p for p in PIECES if p not in ("\x85", "\x7f")] + ["<p>x</p>"] * 4), max_size=30
)
ZONES = st.sampled_from(
    [
        UTC,
        ZoneInfo("Europe/Stockholm"),
        ZoneInfo("America/St_Johns"),
        timezone(timedelta(hours=-5, minutes=-30)),
    ]
)
MOMENTS = st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES)
TARGETS = [t.id for t in load_taxonomy().targets]
URLS = st.sampled_from(
    [
        "https://mal17.example.se/updates/a/",
        'https://example.org/x?a=1&b="2"&c=<3>',
        "https://example.org/\tx\ny",
    ]
)
IMAGES = st.one_of(
    st.none(),
    st.builds(
        Image,
        url=st.sampled_from(
            ["https://example.org/a.png", "https://example.org/b.jpg?x=1&y=2", "https://x/y"]
        ),
        alt=HOSTILE,
        length=st.one_of(st.none(), st.integers(0, 10**7)),
        media_type=st.sampled_from([None, "image/png", 'image/svg+xml; a="&"']),
    ),
)


@st.composite
def updates(draw) -> list[Update]:
    """A few updates with hostile text in every field a feed entry carries."""
    found = []
    for n in range(draw(st.integers(1, 7))):
        date = draw(MOMENTS)
        found.append(
            Update(
                id=f"tag:test.example,2026:{n}" + draw(st.sampled_from(["", "&x", "<y>"])),
                slug=f"u{n}",
                title=draw(TITLE),
                date=date,
                updated=date
                + draw(st.sampled_from([timedelta(0), timedelta(microseconds=7), timedelta(days=3)])),
                lang=draw(st.sampled_from(["sv", "en"])),
                targets=tuple(draw(st.lists(st.sampled_from(TARGETS), unique=True, max_size=3))),
                tags=tuple(draw(st.lists(HOSTILE, max_size=3))),
                author=draw(st.one_of(st.none(), HOSTILE)),
                summary=draw(HOSTILE),
                html="",
                toc_html="",
                feed_html="".join(draw(HTML)),
                image=draw(IMAGES),
                source=f"u{n}.md",
                url=draw(URLS),
            )
        )
    return found


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates(), st.sampled_from(["", "https://hub.example/?a=1&b=2"]))
def test_spliced_documents_are_the_documents_written_whole(found, hub):
    """Subscription documents (pretty, whole text) and archive pages (compact, summaries) alike."""
    settings = default_settings(feed_items=2, websub_hub=hub)
    cached_entry.cache_clear()
    pages = [page for scope in scopes(found, settings) for page in feed_pages(scope, settings)]
    assert any(page.is_archive for page in pages) == (len(found) >= 2)
    for page in pages:
        for name in ARCHIVE_FORMATS:
            spliced = RENDER[name](page, settings)
            assert spliced == whole_document(page, settings, name), page.folder + name
            etree.fromstring(spliced)  # well-formed


def test_a_real_corpus_gives_the_same_bytes_as_documents_written_whole(content_dir, settings):
    write_corpus(content_dir)  # markup in titles, summaries and HTML, images, authors, tags
    content = read_content(content_dir, settings, NOW)
    small = dataclasses.replace(settings, feed_items=2)
    cached_entry.cache_clear()
    pages = [page for scope in scopes(content.updates, small) for page in feed_pages(scope, small)]
    assert any(page.is_archive for page in pages) and any(
        page.entries[0].image for page in pages if page.entries
    )
    for page in pages:
        for name in ARCHIVE_FORMATS:
            assert RENDER[name](page, small) == whole_document(page, small, name), page.folder + name
    assert cached_entry.cache_info().hits > 0, "an update in several documents is written once"


def test_an_edited_update_is_written_afresh(content_dir, settings):
    write_corpus(content_dir)
    content = read_content(content_dir, settings, NOW)
    (page, *_) = feed_pages(scopes(content.updates, settings)[0], settings)
    before = {name: RENDER[name](page, settings) for name in RENDER}
    first = page.entries[0]
    edited = dataclasses.replace(first, feed_html=first.feed_html + "<p>Rättelse</p>")
    page2 = dataclasses.replace(page, entries=(edited, *page.entries[1:]))
    for name, render in RENDER.items():
        after = render(page2, settings)
        assert after != before[name] and b"<p>R\xc3\xa4ttelse</p>" in after
        assert after == whole_document(page2, settings, name)
        assert render(page, settings) == before[name]


@given(MOMENTS)
def test_rfc822_dates_are_feedgens(moment):
    assert feedgen_date(moment) == formatRFC2822(moment)


def test_an_entry_writes_its_dates_apart_unless_they_are_written_the_same(content_dir, settings):
    """Atom's ``published`` reuses ``updated``'s text only for the same fields, zone and fold:
    one instant in two zones, or a repeated local hour (fold), is two texts."""
    write_corpus(content_dir)
    first = read_content(content_dir, settings, NOW).updates[0]
    stockholm = ZoneInfo("Europe/Stockholm")
    autumn = datetime(2026, 10, 25, 2, 30, tzinfo=stockholm)  # 02:30 happens twice that night
    pairs = [
        (autumn, autumn),
        (autumn, autumn.replace(fold=1)),
        (autumn, autumn.astimezone(UTC)),
        (autumn, autumn.astimezone(timezone(timedelta(hours=2)))),
        (autumn, autumn + timedelta(microseconds=7)),
    ]
    found = [
        dataclasses.replace(first, id=f"{first.id}-{n}", slug=f"d{n}", date=date, updated=updated)
        for n, (date, updated) in enumerate(pairs)
    ]
    small = dataclasses.replace(settings, feed_items=2)
    pages = [page for scope in scopes(found, small) for page in feed_pages(scope, small)]
    assert any(page.is_archive for page in pages)
    written = b""
    for page in pages:
        for name in ARCHIVE_FORMATS:
            document = RENDER[name](page, small)
            assert document == whole_document(page, small, name), page.folder + name
            written += document
    assert b"<updated>2026-10-25T02:30:00+01:00</updated>" in written  # the fold: its own text
