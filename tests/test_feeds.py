"""What each feed holds: scopes, items, feed-level metadata, order, limits, hub, autodiscovery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import feedparser
import pytest
from lxml import etree

from pipeline.config.site import default_settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.entries import cached_entry
from pipeline.outputs.feeds.model import scopes
from pipeline.outputs.feeds.rss_atom import render_atom, render_rss
from pipeline.publishing.site_build import run_build
from pipeline.reading.content import read_content
from tests.conftest import NOW
from tests.feeds_helpers import build_feeds, write_corpus

A = "{http://www.w3.org/2005/Atom}"
BASE = "https://mal17.example.se/"
SCHEME = load_taxonomy().scheme


@pytest.fixture
def tricky(content_dir, settings) -> dict[str, bytes]:
    write_corpus(content_dir)
    return build_feeds(content_dir, settings)


def entry(files: dict[str, bytes], path: str, update_id: str):
    parsed = feedparser.parse(files[path])
    return next(e for e in parsed.entries if e.id == update_id)


def json_item(files, path, update_id):
    return next(i for i in json.loads(files[path])["items"] if i["id"] == update_id)


def test_site_target_group_and_language_feeds_exist(tricky):
    folders = ["feeds/"]
    folders += [f"feeds/targets/{t.id}/" for t in load_taxonomy().targets]
    folders += [f"feeds/groups/{g.id}/" for g in load_taxonomy().groups]
    folders += ["feeds/lang/sv/", "feeds/lang/en/"]
    assert len(folders) == 1 + 19 + 7 + 2
    for folder in folders:
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert folder + name in tricky
    for name in ("index.opml", "index.json", "icon.png", "favicon.png"):
        assert "feeds/" + name in tricky
    assert tricky["feeds/icon.png"].startswith(b"\x89PNG")


def test_one_language_means_no_language_feeds(content_dir, write_update, settings):
    write_update("a", targets=["17.1"])
    files = build_feeds(content_dir, settings)
    assert not [path for path in files if path.startswith("feeds/lang/")]


def test_an_empty_target_feed_is_valid_and_dated_at_the_fixed_instant(tricky):
    parsed = feedparser.parse(tricky["feeds/targets/17.4/atom.xml"])
    assert parsed.bozo == 0 and parsed.entries == []
    assert parsed.feed.updated == "2000-01-01T00:00:00+00:00"
    rss = etree.fromstring(tricky["feeds/targets/17.4/rss.xml"])
    assert rss.findtext("channel/lastBuildDate") == "Sat, 01 Jan 2000 00:00:00 +0000"
    assert json.loads(tricky["feeds/targets/17.4/feed.json"])["items"] == []


def test_item_id_is_the_update_id_in_every_format(tricky):
    rss = etree.fromstring(tricky["feeds/rss.xml"])
    guid = rss.find("channel/item/guid")
    assert guid.text == "tag:test.example,2026:hostile" and guid.get("isPermaLink") == "false"
    atom = etree.fromstring(tricky["feeds/atom.xml"])
    assert atom.find(f"{A}entry/{A}id").text == "tag:test.example,2026:hostile"
    assert json.loads(tricky["feeds/feed.json"])["items"][0]["id"] == "tag:test.example,2026:hostile"


@pytest.mark.parametrize("fmt", ["rss.xml", "atom.xml"])
def test_item_fields_survive_a_feedparser_round_trip(tricky, fmt):
    item = entry(tricky, "feeds/" + fmt, "tag:test.example,2026:relative")
    assert item.link == BASE + "updates/relative/"
    assert item.title == "Emoji 🎉 och relativa länkar"
    published = datetime(*item.published_parsed[:6], tzinfo=UTC)
    assert published == datetime.fromisoformat("2026-11-19T09:00:00+01:00")
    assert item.summary.startswith("Se nästa, rot")
    html = item.content[0].value
    assert 'href="https://mal17.example.se/om/"' in html and "🎉🇸🇪" in html
    assert [(t.term, t.scheme) for t in item.tags] == [("17.1", SCHEME)]
    enclosure = next(link for link in item.links if link.rel == "enclosure")
    assert enclosure.href == BASE + "media/pixel.png"
    assert enclosure.type == "image/png" and enclosure.length == "70"
    hostile = entry(tricky, "feeds/" + fmt, "tag:test.example,2026:hostile")
    assert hostile.author == "Anna & ＜Co>"  # a name is plain text without a type in both formats
    assert [t.term for t in hostile.tags][2:] == (
        ["＜b>fet＜/b>", "Q&A"] if fmt == "rss.xml" else ["<b>fet</b>", "Q&A"]
    )


def test_dates_use_rfc822_in_rss_and_rfc3339_in_atom_and_json(tricky):
    rss = etree.fromstring(tricky["feeds/rss.xml"])
    pub = rss.findtext("channel/item/pubDate")
    assert pub == "Fri, 20 Nov 2026 09:00:00 +0100"
    assert parsedate_to_datetime(pub) == datetime.fromisoformat("2026-11-20T09:00:00+01:00")
    atom = etree.fromstring(tricky["feeds/atom.xml"])
    first = atom.find(f"{A}entry")
    assert first.findtext(f"{A}published") == "2026-11-20T09:00:00+01:00"
    assert first.findtext(f"{A}updated") == "2026-11-20T09:00:00+01:00"
    item = json.loads(tricky["feeds/feed.json"])["items"][0]
    assert item["date_published"] == item["date_modified"] == "2026-11-20T09:00:00+01:00"


def test_summary_is_plain_and_content_is_full_html(tricky):
    rss = etree.fromstring(tricky["feeds/rss.xml"])
    item = rss.find("channel/item")
    assert item.findtext("description") == "Början och slut."
    assert "<p>Kod: <code>&lt;script&gt;</code>" in item.findtext(
        "{http://purl.org/rss/1.0/modules/content/}encoded"
    )
    atom = etree.fromstring(tricky["feeds/atom.xml"]).find(f"{A}entry")
    assert atom.find(f"{A}summary").get("type") is None
    assert atom.find(f"{A}content").get("type") == "html"
    data = json_item(tricky, "feeds/feed.json", "tag:test.example,2026:hostile")
    assert data["summary"] == "Början och slut." and data["content_html"].startswith("<p>")


def test_an_update_without_text_is_summarised_by_its_title(tricky):
    atom = entry(tricky, "feeds/atom.xml", "tag:test.example,2026:empty")
    assert atom.summary == "Bara en rubrik" and "content" not in atom
    rss = next(
        i
        for i in etree.fromstring(tricky["feeds/rss.xml"]).iter("item")
        if i.findtext("guid").endswith("empty")
    )
    assert rss.findtext("description") == "Bara en rubrik"
    assert rss.find("{http://purl.org/rss/1.0/modules/content/}encoded") is None
    assert json_item(tricky, "feeds/feed.json", "tag:test.example,2026:empty")["summary"] == "Bara en rubrik"


def test_markup_like_titles_are_unambiguous_in_each_format(tricky):
    title = "Hostile </b> <script>alert(1)</script> & co"
    atom = etree.fromstring(tricky["feeds/atom.xml"]).find(f"{A}entry/{A}title")
    assert atom.get("type") == "html"
    assert atom.text == "Hostile &lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert json_item(tricky, "feeds/feed.json", "tag:test.example,2026:hostile")["title"] == title
    rss_title = etree.fromstring(tricky["feeds/rss.xml"]).findtext("channel/item/title")
    assert rss_title == title.replace("<", "＜")
    assert b"&#x3C;" not in tricky["feeds/rss.xml"].split(b"<item>")[1].split(b"<link>")[0]
    # Ordinary text stays type="text" in Atom.
    plain = entry(tricky, "feeds/atom.xml", "tag:test.example,2026:same-a")
    assert plain.title_detail.type == "text/plain"


def test_categories_carry_the_taxonomy_scheme_and_labels(tricky):
    atom = etree.fromstring(tricky["feeds/targets/17.9/atom.xml"]).find(f"{A}entry")
    cats = [(c.get("term"), c.get("scheme"), c.get("label")) for c in atom.findall(f"{A}category")]
    assert cats[:2] == [
        ("17.9", SCHEME, load_taxonomy().target("17.9").sv),
        ("17.17", SCHEME, load_taxonomy().target("17.17").sv),
    ]
    assert cats[2:] == [("<b>fet</b>", None, None), ("Q&A", None, None)]
    rss = etree.fromstring(tricky["feeds/targets/17.9/rss.xml"]).find("channel/item")
    assert [(c.text, c.get("domain")) for c in rss.findall("category")][:2] == [
        ("17.9", SCHEME),
        ("17.17", SCHEME),
    ]
    item = json_item(tricky, "feeds/targets/17.9/feed.json", "tag:test.example,2026:hostile")
    assert item["tags"] == ["17.9", "17.17", "<b>fet</b>", "Q&A"]
    assert [t["id"] for t in item["_goal17"]["targets"]] == ["17.9", "17.17"]
    assert {t["scheme"] for t in item["_goal17"]["targets"]} == {SCHEME}


def test_authors_images_and_languages(tricky):
    rss = etree.fromstring(tricky["feeds/rss.xml"])
    dc = "{http://purl.org/dc/elements/1.1/}"
    items = {i.findtext("guid"): i for i in rss.iter("item")}
    assert items["tag:test.example,2026:hostile"].find("author") is None  # RSS author must be an email
    assert items["tag:test.example,2026:hostile"].findtext(f"{dc}creator") == "Anna & ＜Co>"
    english = json_item(tricky, "feeds/lang/en/feed.json", "tag:test.example,2026:english")
    assert english["language"] == "en" and english["image"] == "https://images.example.org/photo.jpg"
    # An external image has no known length: RSS says 0 ("unknown"), Atom leaves length out.
    enclosure = next(i for i in rss.iter("item") if i.findtext("guid").endswith("english")).find("enclosure")
    assert (enclosure.get("type"), enclosure.get("length")) == ("image/jpeg", "0")
    atom = etree.fromstring(tricky["feeds/atom.xml"])
    entries = {e.findtext(f"{A}id"): e for e in atom.iter(f"{A}entry")}
    english_entry = entries["tag:test.example,2026:english"]
    assert english_entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert english_entry.find(f"{A}link[@rel='enclosure']").get("length") is None
    assert items["tag:test.example,2026:english"].findtext(f"{dc}language") == "en"
    assert json.loads(tricky["feeds/lang/en/feed.json"])["language"] == "en"
    assert etree.fromstring(tricky["feeds/lang/en/rss.xml"]).findtext("channel/language") == "en"


def test_feed_level_title_links_language_generator_and_icon(tricky):
    atom = etree.fromstring(tricky["feeds/targets/17.9/atom.xml"])
    title = f"Mål 17 — delmål 17.9: {load_taxonomy().target('17.9').sv}"
    assert atom.findtext(f"{A}title") == title
    assert "17.9" in atom.findtext(f"{A}subtitle")
    links = {(link.get("rel"), link.get("type")): link.get("href") for link in atom.findall(f"{A}link")}
    assert links[("self", "application/atom+xml")] == BASE + "feeds/targets/17.9/atom.xml"
    assert links[("alternate", "text/html")] == BASE + "targets/17.9/"
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "sv"
    assert atom.findtext(f"{A}generator") == "goal17-syndication"
    assert atom.findtext(f"{A}icon") == BASE + "feeds/favicon.png"
    assert atom.findtext(f"{A}author/{A}name") == "Sveriges Kommuner och Regioner"
    rss = etree.fromstring(tricky["feeds/targets/17.9/rss.xml"]).find("channel")
    assert rss.findtext("title") == title
    assert rss.findtext("link") == BASE + "targets/17.9/"  # feedgen's last link() is the HTML page
    self_link = rss.find(f"{A}link[@rel='self']")
    assert self_link.get("href") == BASE + "feeds/targets/17.9/rss.xml"
    assert rss.findtext("language") == "sv" and rss.findtext("image/url") == BASE + "feeds/favicon.png"
    data = json.loads(tricky["feeds/targets/17.9/feed.json"])
    assert data["title"] == title and data["feed_url"] == BASE + "feeds/targets/17.9/feed.json"
    assert data["home_page_url"] == BASE + "targets/17.9/" and data["icon"] == BASE + "feeds/icon.png"
    group = etree.fromstring(tricky["feeds/groups/finance/atom.xml"])
    assert group.findtext(f"{A}title") == "Mål 17 — Finansiering"
    assert "17.1–17.5" in group.findtext(f"{A}subtitle")


def test_updated_is_the_newest_entry_not_the_build_time(content_dir, write_update, settings):
    write_update("old", date="2026-01-01T10:00", updated="2026-06-01T10:00", targets=["17.2"])
    write_update("new", date="2026-03-01T10:00", targets=["17.2"])
    files = build_feeds(content_dir, settings)
    atom = etree.fromstring(files["feeds/atom.xml"])
    # The newest *updated* wins even though the edited update is the older one.
    assert atom.findtext(f"{A}updated") == "2026-06-01T10:00:00+02:00"
    assert etree.fromstring(files["feeds/rss.xml"]).findtext("channel/lastBuildDate") == (
        "Mon, 01 Jun 2026 10:00:00 +0200"
    )
    assert str(NOW.year) not in files["feeds/targets/17.3/atom.xml"].decode()


def test_newest_first_with_the_id_breaking_ties(tricky):
    ids = [i["id"].rsplit(":", 1)[1] for i in json.loads(tricky["feeds/feed.json"])["items"]]
    assert ids == ["hostile", "relative", "same-a", "same-b", "english", "no-targets", "empty"]
    for fmt in ("rss.xml", "atom.xml"):
        assert [e.id.rsplit(":", 1)[1] for e in feedparser.parse(tricky["feeds/" + fmt]).entries] == ids


def test_feeds_hold_the_latest_n_items(content_dir, write_update):
    """The site feed holds feed_items (its archive pages as many each); a language, area or
    target feed, which has no archive, holds scope_feed_items."""
    for day in range(1, 8):
        write_update(f"u{day}", date=f"2026-11-0{day}T10:00", targets=["17.5"])
    settings = default_settings(feed_items=3, scope_feed_items=2)
    files = build_feeds(content_dir, settings)
    newest = [f"tag:test.example,2026:u{day}" for day in range(7, 0, -1)]
    for folder, count in (
        ("feeds/", 3),
        ("feeds/targets/17.5/", 2),
        ("feeds/groups/finance/", 2),
    ):
        ids = [i["id"] for i in json.loads(files[folder + "feed.json"])["items"]]
        assert ids == newest[:count], folder
        for fmt in ("rss.xml", "atom.xml"):
            assert [e.id for e in feedparser.parse(files[folder + fmt]).entries] == newest[:count]
    assert not any(
        path.startswith(("feeds/targets/17.5/archive", "feeds/groups/finance/archive")) for path in files
    )
    assert json.loads(files["feeds/index.json"])["scope_feed_items"] == 2


def test_a_websub_hub_is_advertised_in_every_format(content_dir, write_update):
    write_update("a", targets=["17.1"])
    hub = "https://hub.example.org/"
    files = build_feeds(content_dir, default_settings(websub_hub=hub))
    for folder in ("feeds/", "feeds/targets/17.1/", "feeds/targets/17.19/"):
        atom = etree.fromstring(files[folder + "atom.xml"])
        assert atom.find(f"{A}link[@rel='hub']").get("href") == hub
        rss = etree.fromstring(files[folder + "rss.xml"])
        assert rss.find(f"channel/{A}link[@rel='hub']").get("href") == hub
        assert json.loads(files[folder + "feed.json"])["hubs"] == [{"type": "WebSub", "url": hub}]
    plain = build_feeds(content_dir, default_settings())
    assert b'rel="hub"' not in plain["feeds/atom.xml"] and b"hubs" not in plain["feeds/feed.json"]


def test_pages_link_their_feeds_for_autodiscovery(content_dir, write_update, settings, tmp_path):
    write_update("a", targets=["17.9"])
    run_build(content_dir, tmp_path / "out", settings, NOW)
    out = tmp_path / "out"
    home = (out / "index.html").read_text("utf-8")
    target = (out / "targets/17.9/index.html").read_text("utf-8")
    for name, media_type in (("rss.xml", "rss"), ("atom.xml", "atom"), ("feed.json", "feed")):
        # relative to the page, like every in-site link of a page
        assert f'href="feeds/{name}"' in home and f"application/{media_type}+" in home
        assert f'href="../../feeds/targets/17.9/{name}"' in target
        assert (out / "feeds" / name).is_file() and (out / "feeds/targets/17.9" / name).is_file()


def test_rss_and_atom_are_the_same_whichever_is_made_first(content_dir, settings):
    """The two formats share one per-process entry cache; neither may see the other's entries."""
    write_corpus(content_dir)
    updates = read_content(content_dir, settings, NOW).updates
    pages = [page for scope in scopes(updates, settings) for page in feed_pages(scope, settings)]
    for page in pages[:6]:
        cached_entry.cache_clear()
        alone = (render_rss(page, settings), cached_entry.cache_clear(), render_atom(page, settings))
        atom_first = render_atom(page, settings), render_rss(page, settings)
        cached_entry.cache_clear()
        rss_first = render_rss(page, settings), render_atom(page, settings)
        assert (atom_first[1], atom_first[0]) == (alone[0], alone[2]) == rss_first
