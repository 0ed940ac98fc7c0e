"""JSON Feed items written once and reused: the same bytes as writing each document whole."""

from __future__ import annotations

import dataclasses
import json

from pipeline.outputs.feeds import jsonfeed
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.model import scopes
from pipeline.reading.content import read_content
from tests.conftest import NOW
from tests.feeds_helpers import write_corpus


def _whole_document(page, settings) -> bytes:
    """The writer as it was before items were reused: every item encoded, the document escaped."""
    feed = json.loads(jsonfeed.render_json(page, settings))
    feed["items"] = [jsonfeed._item(update, page.full_content) for update in page.entries]
    members = []
    for key in sorted(feed):
        value = feed[key]
        if isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(jsonfeed._ENCODE(v) for v in value) + "\n  ]"
        else:
            text = jsonfeed._ENCODE(value)
        members.append(f"  {jsonfeed._ENCODE(key)}: {text}")
    return (jsonfeed._escape("{\n" + ",\n".join(members) + "\n}") + "\n").encode("utf-8")


def test_reused_items_give_the_bytes_of_a_document_written_whole(content_dir, settings):
    write_corpus(content_dir)  # markup in titles, summaries and HTML, </script>, <!--, &
    content = read_content(content_dir, settings, NOW)
    jsonfeed._item_text.cache_clear()
    pages = [page for scope in scopes(content.updates, settings) for page in feed_pages(scope, settings)]
    assert len(pages) > 3
    for page in pages:
        assert jsonfeed.render_json(page, settings) == _whole_document(page, settings), page.folder
    info = jsonfeed._item_text.cache_info()
    assert info.hits > 0, "an update in several documents is written once"


def test_an_edited_update_is_written_afresh(content_dir, settings):
    write_corpus(content_dir)
    content = read_content(content_dir, settings, NOW)
    (page, *_) = feed_pages(scopes(content.updates, settings)[0], settings)
    before = jsonfeed.render_json(page, settings)
    first = page.entries[0]
    edited = dataclasses.replace(first, feed_html=first.feed_html + "<p>Rättelse</p>")
    page2 = dataclasses.replace(page, entries=(edited, *page.entries[1:]))
    after = jsonfeed.render_json(page2, settings)
    assert after != before
    item = json.loads(after)["items"][0]
    assert item["content_html"].endswith("<p>Rättelse</p>")
    assert jsonfeed.render_json(page, settings) == before
