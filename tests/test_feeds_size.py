"""Feeds carry the same text in fewer bytes (issue 16): CDATA, lean JSON escaping, lean archives."""

from __future__ import annotations

import dataclasses
import json

import feedparser
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.config.site import default_settings
from pipeline.outputs.feeds.entries import RSS_ESCAPE_COST, html_payload, rss_text
from pipeline.outputs.feeds.jsonfeed import dumps
from pipeline.outputs.feeds.markup import prefer_cdata
from pipeline.reading.content import read_content
from tests.conftest import NOW
from tests.feeds_helpers import build_feeds, validation_problems, write_corpus

A = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_LANGUAGE = "{http://purl.org/dc/elements/1.1/}language"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Sanitized HTML can still hold "]]>" (in an attribute) and a raw "\r" never survives CDATA.
AWKWARD_BODY = """\
Text med [länk](https://example.org/?a=1&b=]]>x) och <a href="https://example.org/]]>">rå</a>.

- en
- två
"""


def feed_html_by_id(content_dir, settings) -> dict[str, str]:
    return {u.id: u.feed_html for u in read_content(content_dir, settings, NOW).updates}


def test_every_format_carries_exactly_the_feed_html(content_dir, write_update, settings):
    write_corpus(content_dir)
    write_update("awkward", body=AWKWARD_BODY, date="2026-11-21T09:00", targets=["17.9"])
    files = build_feeds(content_dir, settings)
    expected = feed_html_by_id(content_dir, settings)
    awkward = expected["tag:test.example,2026:awkward"]
    assert "]]" in awkward and "&amp;" in awkward  # the sanitizer percent-encodes the ">" in URLs
    atom = etree.fromstring(files["feeds/atom.xml"])
    rss = etree.fromstring(files["feeds/rss.xml"])
    items = json.loads(files["feeds/feed.json"])["items"]
    for uid, html in expected.items():
        if not html.strip():
            continue
        atom_entry = next(e for e in atom.iter(f"{A}entry") if e.findtext(f"{A}id") == uid)
        assert atom_entry.findtext(f"{A}content") == html
        rss_item = next(i for i in rss.iter("item") if i.findtext("guid") == uid)
        assert rss_item.findtext(CONTENT) == html
        assert next(i for i in items if i["id"] == uid)["content_html"] == html
    for path in ("feeds/atom.xml", "feeds/rss.xml", "feeds/feed.json"):
        assert validation_problems(path, files[path]) == []


def test_typical_content_is_cdata_and_smaller_than_escaped(content_dir, write_update, settings):
    body = "".join(
        f"## Rubrik {n}\n\nEtt *stycke* med [länk](https://example.org/{n}).\n\n" for n in range(20)
    )
    write_update("plain", body=body, targets=["17.1"])
    files = build_feeds(content_dir, settings)
    rss, atom = files["feeds/rss.xml"], files["feeds/atom.xml"]
    assert b"<content:encoded><![CDATA[<h2" in rss
    assert b'<content type="html"><![CDATA[<h2' in atom
    assert b"&#x3C;h2" not in rss and b"&lt;h2" not in atom
    # The escaped form it replaced is longer, by the escapes' cost per markup character.
    html = feed_html_by_id(content_dir, settings)["tag:test.example,2026:plain"]
    assert prefer_cdata(html, RSS_ESCAPE_COST)
    json_text = files["feeds/feed.json"].decode()
    assert "<h2" in json_text and "<\\/h2>" in json_text and "</" not in json_text
    assert "\\u003ch2" not in json_text


def test_cdata_is_skipped_where_it_would_be_longer_or_inexact():
    assert not prefer_cdata("plain text, no markup", 5)
    assert not prefer_cdata("<a>]]></a>" * 10, 5)
    assert not prefer_cdata("<p>line\r</p>" * 10, 5)
    assert prefer_cdata("<p>x</p><p>y</p>", 5)


XML_TEXT = st.lists(
    st.sampled_from(list("<>&]\r\n ;#xX3Cab\"'åé🎉") + ["]]>", "&amp;", "&lt;", "<![CDATA[", "<p>"]),
    max_size=40,
).map("".join)


@hypothesis_settings(max_examples=300, deadline=None)
@given(XML_TEXT)
def test_cdata_and_hex_references_never_change_the_text(text):
    """Whatever the text, CDATA-or-escaping plus RSS hex references parse back to it."""
    payload = html_payload(text, RSS_ESCAPE_COST, rss_text)
    data = f"<?xml version='1.0' encoding='UTF-8'?>\n<rss><description>{payload}</description></rss>"
    assert etree.fromstring(data.encode("utf-8")).findtext("description") == text


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_json_escaping_keeps_the_value_and_leaves_no_raw_markup_in_text(html, text):
    document = {"items": [{"content_html": html, "title": text, "summary": html}]}
    data = dumps(document)
    assert json.loads(data) == document
    decoded = data.decode()
    assert "</" not in decoded and "<!--" not in decoded
    outside = decoded.split('"content_html":')[0] + decoded.split('"content_html":')[1].split('","', 1)[-1]
    assert not any(c in outside for c in "<>&")


def test_archive_pages_carry_summaries_and_links_not_the_whole_text(content_dir, write_update):
    for n in range(1, 8):
        write_update(
            f"u{n:02d}", body="Ett stycke. " * 80 + "\n", date=f"2026-10-{n:02d}T10:00", targets=["17.1"]
        )
    files = build_feeds(content_dir, default_settings(feed_items=3))
    current = feedparser.parse(files["feeds/atom.xml"])
    assert all(e.content for e in current.entries)
    for page in (1, 2):
        for name in ("atom.xml", "rss.xml"):
            path = f"feeds/archive/{page}/{name}"
            assert validation_problems(path, files[path]) == []
            parsed = feedparser.parse(files[path])
            assert len(parsed.entries) == 3
            for e in parsed.entries:
                assert "content" not in e
                assert e.summary.startswith("Ett stycke.") and e.link.startswith("https://")
        # Each entry is much smaller than in the subscription document.
        assert len(files[f"feeds/archive/{page}/atom.xml"]) * 2 < len(files["feeds/atom.xml"])
    assert "feeds/archive/1/feed.json" not in files


def test_entries_name_their_language_only_when_it_is_not_the_documents(content_dir, settings):
    """xml:lang is inherited in XML and an RSS item is in its channel's language: saying it again
    on every entry was ≈ 0.46 MB of a 10,000-update site's feeds."""
    write_corpus(content_dir)  # Swedish updates and one in English
    files = build_feeds(content_dir, dataclasses.replace(settings, feed_items=2))  # with archive pages
    languages = {u.id: u.lang for u in read_content(content_dir, settings, NOW).updates}
    assert set(languages.values()) == {"sv", "en"}
    for path in ("feeds/atom.xml", "feeds/archive/1/atom.xml", "feeds/lang/en/atom.xml"):
        feed = etree.fromstring(files[path])
        own = feed.get(XML_LANG)
        for entry in feed.iter(f"{A}entry"):
            lang = languages[entry.findtext(f"{A}id")]
            assert entry.get(XML_LANG) == (None if lang == own else lang)
        for parsed in feedparser.parse(files[path]).entries:
            assert parsed.title_detail.language == languages[parsed.id]  # inherited or its own
    for path in ("feeds/rss.xml", "feeds/lang/en/rss.xml"):
        channel = etree.fromstring(files[path]).find("channel")
        for item in channel.iter("item"):
            lang = languages[item.findtext("guid")]
            assert item.findtext(DC_LANGUAGE) == (None if lang == channel.findtext("language") else lang)
        assert validation_problems(path, files[path]) == []
