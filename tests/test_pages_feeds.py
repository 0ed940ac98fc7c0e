"""What feed readers meet (issue 14, Deliver 8): OPML imports without overlapping feeds, and a
fallback author for RSS items without one. Real builds, parsed with lxml and feedparser."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import feedparser
from lxml import etree

from pipeline.cli import main

NOW = "2026-11-27T12:00"
BASE = "https://mal17.example.se/"


def built(tmp_path: Path, write_update, content_dir: Path) -> Path:
    write_update("a", date="2026-10-01T10:00", targets=["17.6", "17.9"], author="Anna A")
    write_update("b", date="2026-10-02T10:00", targets=["17.9", "17.17"], lang="en")
    write_update("c", date="2026-10-03T10:00", targets=["17.2"])
    out = tmp_path / "out"
    args = ["build", "--content", str(content_dir), "--out", str(out), "--now", NOW, "-q"]
    assert main(args) == 0
    return out


def opml_feeds(out: Path, name: str) -> list[str]:
    opml = etree.parse(str(out / "feeds" / name))
    return [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]


def entry_ids(out: Path, url: str) -> list[str]:
    parsed = feedparser.parse((out / url.removeprefix(BASE)).read_bytes())
    assert not parsed.bozo, url
    return [entry.id for entry in parsed.entries]


def newsboat_import(out: Path, name: str) -> dict[str, list[str]]:
    """What newsboat shows after importing an OPML file: one copy per id, in the first feed."""
    shown: dict[str, list[str]] = {}
    kept: set[str] = set()
    for url in opml_feeds(out, name):
        shown[url] = [i for i in entry_ids(out, url) if i not in kept]
        kept.update(shown[url])
    return shown


def test_index_opml_imports_feeds_that_share_no_update(tmp_path, write_update, content_dir):
    out = built(tmp_path, write_update, content_dir)
    assert opml_feeds(out, "index.opml") == [BASE + "feeds/rss.xml"]
    for name in ("index.opml", "languages.opml"):
        counts = Counter(i for url in opml_feeds(out, name) for i in entry_ids(out, url))
        assert counts and max(counts.values()) == 1, name
        # So no feed looks empty in a reader that keeps one copy per id.
        assert all(newsboat_import(out, name).values()), name


def test_areas_and_targets_have_their_own_opml_files(tmp_path, write_update, content_dir):
    out = built(tmp_path, write_update, content_dir)
    targets = opml_feeds(out, "targets.opml")
    assert len(targets) == 19 and all("/feeds/targets/17." in url for url in targets)
    assert len(opml_feeds(out, "groups.opml")) == 7
    listed = set().union(*(opml_feeds(out, n) for n in ("index.opml", "languages.opml", "groups.opml")))
    assert not listed & set(targets)


def test_an_rss_item_without_an_author_falls_back_to_the_organisation(tmp_path, write_update, content_dir):
    out = built(tmp_path, write_update, content_dir)
    parsed = feedparser.parse((out / "feeds/rss.xml").read_bytes())
    assert parsed.feed.author_detail.name == "Sveriges Kommuner och Regioner"
    by_id = {entry.id: entry for entry in parsed.entries}

    # rss2email's name ("{feed-title}: {author}", Feed._get_entry_name): the entry's author, else
    # the feed's, else the literal "<author>" the issue saw.
    def rss2email_author(entry) -> str:
        for source in (entry, parsed.feed):
            name = source.get("author_detail", {}).get("name")
            if name:
                return name
        return "<author>"

    assert rss2email_author(by_id["tag:test.example,2026:c"]) == "Sveriges Kommuner och Regioner"
    assert rss2email_author(by_id["tag:test.example,2026:a"]) == "Anna A"
