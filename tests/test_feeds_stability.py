"""Feeds are stable: same bytes for the same content, ids that survive edits, small diffs, archives."""

from __future__ import annotations

import json

import feedparser
from lxml import etree

from pipeline.config.site import default_settings
from pipeline.publishing.site_build import run_build
from tests.conftest import NOW
from tests.feeds_helpers import build_feeds, write_corpus

A = "{http://www.w3.org/2005/Atom}"
BASE = "https://mal17.example.se/"


def feed_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if path.startswith("feeds/")}


def ids(data: bytes) -> list[str]:
    return [e.id for e in feedparser.parse(data).entries]


def test_rebuilding_unchanged_content_gives_byte_identical_feeds(content_dir, settings, tmp_path):
    write_corpus(content_dir)
    first = feed_files(build_feeds(content_dir, settings))
    second = feed_files(build_feeds(content_dir, settings))
    assert first == second
    run_build(content_dir, tmp_path / "out", settings, NOW)
    report = run_build(content_dir, tmp_path / "out", settings, NOW.replace(hour=23)).report
    assert not report.changed  # a later build leaves every file (and its mtime, its ETag) alone
    on_disk = {p: (tmp_path / "out" / p).read_bytes() for p in first}
    assert on_disk == first


def test_ids_survive_title_body_and_file_name_edits(content_dir, write_update, settings):
    write_update(
        "original", body="First text.\n", title="Original title", targets=["17.9"], id="tag:x.se,2026:k1"
    )
    before = build_feeds(content_dir, settings)
    (content_dir / "original.md").unlink()
    write_update(
        "renamed-file", body="Rewritten.\n", title="New title", targets=["17.9"], id="tag:x.se,2026:k1"
    )
    after = build_feeds(content_dir, settings)
    for path in (
        "feeds/rss.xml",
        "feeds/atom.xml",
        "feeds/targets/17.9/rss.xml",
        "feeds/targets/17.9/atom.xml",
    ):
        assert ids(before[path]) == ids(after[path]) == ["tag:x.se,2026:k1"]
    for path in ("feeds/feed.json", "feeds/targets/17.9/feed.json"):
        assert [i["id"] for i in json.loads(before[path])["items"]] == ["tag:x.se,2026:k1"]
        item = json.loads(after[path])["items"][0]
        assert item["id"] == "tag:x.se,2026:k1" and item["title"] == "New title"
    # The page URL follows the new file name; the id does not.
    assert json.loads(after["feeds/feed.json"])["items"][0]["url"] == BASE + "updates/renamed-file/"


def test_adding_one_update_changes_only_the_feeds_it_belongs_to(content_dir, write_update, settings):
    write_update("a", date="2026-10-01T10:00", targets=["17.9"])
    write_update("b", date="2026-10-02T10:00", targets=["17.17"], lang="en")
    before = feed_files(build_feeds(content_dir, settings))
    write_update("c", date="2026-10-03T10:00", targets=["17.2"])
    after = feed_files(build_feeds(content_dir, settings))
    changed = {path for path in after if before.get(path) != after[path]}
    expected = (
        {
            folder + name
            for folder in ("feeds/", "feeds/lang/sv/", "feeds/groups/finance/", "feeds/targets/17.2/")
            for name in ("rss.xml", "atom.xml", "feed.json")
        }
        | {"feeds/index.json"}
        | {f"feeds/{n}.opml" for n in ("index", "languages", "groups", "targets")}
    )
    assert changed == expected
    assert set(before) == set(after)


def test_editing_an_update_changes_its_feeds_and_their_updated_time(content_dir, write_update, settings):
    write_update("a", date="2026-10-01T10:00", targets=["17.9"])
    write_update("b", date="2026-10-02T10:00", targets=["17.1"])
    before = feed_files(build_feeds(content_dir, settings))
    write_update("a", date="2026-10-01T10:00", updated="2026-11-20T08:00", targets=["17.9"], body="Edited.\n")
    after = feed_files(build_feeds(content_dir, settings))
    assert before["feeds/targets/17.1/atom.xml"] == after["feeds/targets/17.1/atom.xml"]
    atom = etree.fromstring(after["feeds/targets/17.9/atom.xml"])
    assert atom.findtext(f"{A}updated") == "2026-11-20T08:00:00+01:00"


def archive_setup(content_dir, write_update, count: int, **settings):
    for n in range(1, count + 1):
        write_update(f"u{n:02d}", date=f"2026-10-{n:02d}T10:00", targets=["17.1"])
    return build_feeds(content_dir, default_settings(feed_items=3, **settings))


def entry_ids(files, path):
    return [e.id.rsplit(":", 1)[1] for e in feedparser.parse(files[path]).entries]


def test_archives_hold_every_older_update_in_fixed_pages_from_the_oldest(content_dir, write_update):
    files = archive_setup(content_dir, write_update, 10)
    assert entry_ids(files, "feeds/atom.xml") == ["u10", "u09", "u08"]
    assert entry_ids(files, "feeds/archive/1/atom.xml") == ["u03", "u02", "u01"]
    assert entry_ids(files, "feeds/archive/3/atom.xml") == ["u09", "u08", "u07"]
    assert "feeds/archive/4/atom.xml" not in files  # only full pages are published
    # Walk prev-archive from the subscription document: every update is reachable.
    seen, url = [], BASE + "feeds/atom.xml"
    while url:
        doc = etree.fromstring(files[url.removeprefix(BASE)])
        seen += [e.findtext(f"{A}id").rsplit(":", 1)[1] for e in doc.iter(f"{A}entry")]
        link = doc.find(f"{A}link[@rel='prev-archive']")
        url = link.get("href") if link is not None else None
    assert sorted(set(seen)) == [f"u{n:02d}" for n in range(1, 11)]
    # RSS carries the same links as atom:link, JSON Feed pages through next_url.
    rss = etree.fromstring(files["feeds/archive/2/rss.xml"]).find("channel")
    rels = {link.get("rel"): link.get("href") for link in rss.findall(f"{A}link")}
    # Issue 16: no next-archive, so a full page never changes (see the next test).
    assert rels == {
        "self": BASE + "feeds/archive/2/rss.xml",
        "prev-archive": BASE + "feeds/archive/1/rss.xml",
        "current": BASE + "feeds/rss.xml",
    }
    newest = etree.fromstring(files["feeds/archive/3/atom.xml"])
    assert newest.find(f"{A}link[@rel='next-archive']") is None
    assert newest.find(f"{A}link[@rel='current']").get("href") == BASE + "feeds/atom.xml"
    assert newest.find("{http://purl.org/syndication/history/1.0}archive") is not None
    # Issue 16: JSON Feed has no archive pages (readers rarely page), so no next_url either.
    assert "next_url" not in json.loads(files["feeds/feed.json"])
    assert not [path for path in files if path.startswith("feeds/archive/") and path.endswith(".json")]
    # Archive pages never change, so they advertise no WebSub hub; target and group feeds have no archives.
    hubbed = archive_setup(content_dir, write_update, 10, websub_hub="https://hub.example.org/")
    assert b'rel="hub"' in hubbed["feeds/atom.xml"] and b'rel="hub"' not in hubbed["feeds/archive/1/atom.xml"]
    assert b"hub" not in hubbed["feeds/archive/1/rss.xml"]
    assert b"prev-archive" not in files["feeds/targets/17.1/atom.xml"]


def test_full_archive_pages_do_not_change_when_updates_are_added(content_dir, write_update):
    before = archive_setup(content_dir, write_update, 9)
    after = archive_setup(content_dir, write_update, 11)  # u10, u11: no new full page yet
    for n in (1, 2, 3):
        for name in ("rss.xml", "atom.xml"):
            assert before[f"feeds/archive/{n}/{name}"] == after[f"feeds/archive/{n}/{name}"]
    grown = archive_setup(content_dir, write_update, 12)  # u12 completes page 4
    assert entry_ids(grown, "feeds/archive/4/atom.xml") == ["u12", "u11", "u10"]
    # Issue 16: not even the newest page changes when a newer one appears (no next-archive link).
    for n in (1, 2, 3):
        for name in ("rss.xml", "atom.xml"):
            assert before[f"feeds/archive/{n}/{name}"] == grown[f"feeds/archive/{n}/{name}"]
