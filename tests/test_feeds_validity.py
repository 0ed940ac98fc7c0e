"""Every feed document is valid and safe, on the example content and on a tricky corpus."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from pipeline.config.site import default_settings
from tests.conftest import REPO
from tests.feeds_helpers import (
    build_feeds,
    executable_text,
    feed_documents,
    json_urls,
    url_problems,
    validation_problems,
    write_corpus,
    xml_urls,
)


@pytest.fixture(scope="module")
def example_files() -> dict[str, bytes]:
    return build_feeds(REPO / "content", default_settings(websub_hub="https://hub.example.org/"))


@pytest.fixture(scope="module")
def tricky_files(tmp_path_factory) -> dict[str, bytes]:
    content = tmp_path_factory.mktemp("tricky") / "content"
    write_corpus(content)
    # Small pages, so the corpus also produces RFC 5005 archive pages to validate.
    return build_feeds(content, default_settings(feed_items=2, websub_hub="https://hub.example.org/"))


def test_example_content_has_updates_in_the_feeds(example_files):
    assert len(json.loads(example_files["feeds/feed.json"])["items"]) > 5


@pytest.mark.parametrize("corpus", ["example_files", "tricky_files"])
def test_every_feed_document_passes_every_offline_validator(corpus, request):
    files = request.getfixturevalue(corpus)
    documents = list(feed_documents(files))
    assert len(documents) >= 3 * (1 + 7 + 19)
    problems = [p for path, data in documents for p in validation_problems(path, data)]
    assert problems == []


def test_tricky_corpus_produced_archives_and_language_feeds(tricky_files):
    assert "feeds/archive/1/atom.xml" in tricky_files
    assert "feeds/lang/en/rss.xml" in tricky_files


@pytest.mark.parametrize("corpus", ["example_files", "tricky_files"])
def test_no_script_handler_javascript_or_relative_url_anywhere(corpus, request):
    files = request.getfixturevalue(corpus)
    for path, data in feed_documents(files):
        assert executable_text(data) == [], path
        urls = json_urls(json.loads(data)) if path.endswith(".json") else xml_urls(etree.fromstring(data))
        assert urls, path
        assert [p for url in urls for p in url_problems(url)] == [], path


def test_hostile_markup_is_gone_but_its_text_survives(tricky_files):
    atom = etree.fromstring(tricky_files["feeds/atom.xml"])
    content = next(
        e.findtext("{http://www.w3.org/2005/Atom}content")
        for e in atom.iter("{http://www.w3.org/2005/Atom}entry")
        if e.findtext("{http://www.w3.org/2005/Atom}id") == "tag:test.example,2026:hostile"
    )
    assert "nästlad" in content and "&lt;script&gt;" in content  # the code span, as text
    for bad in ("<script", "onerror", "onclick", "<iframe", "<style", "<svg", "javascript:", "data:"):
        assert bad not in content.lower()


def test_discovery_files_list_every_subscription_document(tricky_files):
    index = json.loads(tricky_files["feeds/index.json"])
    listed = {url for feed in index["feeds"] for url in feed["urls"].values()}
    base = "https://mal17.example.se/"
    expected = {
        base + path for path, _ in feed_documents(tricky_files) if not path.startswith("feeds/archive/")
    }
    assert listed == expected
    archived = {url for page in index["archives"] for url in page["urls"].values()}
    assert archived == {base + p for p, _ in feed_documents(tricky_files) if p.startswith("feeds/archive/")}
    # issue 14: the feeds are split over four OPML files (index.opml: the site-wide feed alone,
    # so an import never subscribes to overlapping feeds); together they list every feed once.
    xml_urls_in_opml: list[str] = []
    for name in ("index", "languages", "groups", "targets"):
        opml = etree.fromstring(tricky_files[f"feeds/{name}.opml"])
        xml_urls_in_opml += [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
        for outline in opml.iter("outline"):
            assert outline.get("type") == "rss" and outline.get("title") and outline.get("text")
    assert sorted(xml_urls_in_opml) == sorted(url for url in expected if url.endswith("rss.xml"))


def test_the_offline_validators_do_reject_broken_feeds():
    """The checks above can fail: each one catches a typical generator mistake."""
    no_author = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>x</id></feed>'
    assert any("RELAX NG" in p for p in validation_problems("feeds/atom.xml", no_author))
    not_xml = b"<rss version='2.0'><channel><title>a & b</title></channel></rss>"
    with pytest.raises(etree.XMLSyntaxError):
        validation_problems("feeds/rss.xml", not_xml)
    misnested = b"""<rss version="2.0"><channel><title>t</title><link>https://x.example/</link>
      <description>d</description><item><description>&lt;p&gt;&lt;div&gt;x&lt;/div&gt;&lt;/p&gt;
      &lt;a href="/relative"&gt;r&lt;/a&gt;</description></item></channel></rss>"""
    problems = validation_problems("feeds/rss.xml", misnested)
    assert any("parse error" in p for p in problems) and any("not absolute" in p for p in problems)
    bad_json = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": 1}]})
    assert any("schema" in p for p in validation_problems("feeds/feed.json", bad_json.encode()))
    assert executable_text(b"<p onclick='x'>") and executable_text(b"JAVASCRIPT:alert(1)")
