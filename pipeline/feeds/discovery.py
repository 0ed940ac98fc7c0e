"""Lists of every feed: ``feeds/index.opml`` for readers, ``feeds/index.json`` for programs.

The OPML file imports every subscription document into a reader in one step, in folders
(languages, groups, targets). The JSON index names each feed with its title, language, HTML page,
item count, newest update and its URL in all three formats, plus the archive pages.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from pipeline.dates import rfc822, rfc3339
from pipeline.feeds.jsonfeed import dumps
from pipeline.feeds.model import (
    ATOM_FILE,
    EMPTY_FEED_UPDATED,
    FEEDS_DIR,
    FORMATS,
    JSON_FILE,
    RSS_FILE,
    FeedPage,
    FeedScope,
)
from pipeline.labels import labels
from pipeline.sanitize import clean_text
from pipeline.settings import Settings

OPML_PATH = FEEDS_DIR + "index.opml"
INDEX_PATH = FEEDS_DIR + "index.json"
INDEX_VERSION = 1

_FOLDERS = {
    "sv": {"lang": "Språk", "group": "Områden", "target": "Delmål"},
    "en": {"lang": "Languages", "group": "Areas", "target": "Targets"},
}


def build_discovery(pages: Sequence[FeedPage], settings: Settings) -> dict[str, bytes]:
    current = [page for page in pages if not page.is_archive]
    archives = sorted((page for page in pages if page.is_archive), key=lambda p: p.archive_number or 0)
    newest = max((page.updated for page in current), default=EMPTY_FEED_UPDATED)
    return {
        OPML_PATH: _opml(current, settings, newest),
        INDEX_PATH: _index(current, archives, settings, newest),
    }


def feed_urls(folder: str, settings: Settings, formats: Sequence[str] = FORMATS) -> dict[str, str]:
    names = {RSS_FILE: "rss", ATOM_FILE: "atom", JSON_FILE: "json"}
    return {names[name]: settings.url(folder + name) for name in formats}


def _opml(current: Sequence[FeedPage], settings: Settings, newest: datetime) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = html.escape(clean_text(settings.title), quote=False)
    etree.SubElement(head, "dateModified").text = rfc822(newest)
    etree.SubElement(head, "ownerName").text = html.escape(clean_text(settings.organisation), quote=False)
    body = etree.SubElement(root, "body")
    folders = _FOLDERS["en" if settings.language == "en" else "sv"]
    parents: dict[str, etree._Element] = {}
    for page in current:
        scope = page.scope
        parent = body
        if scope.kind in folders:
            if scope.kind not in parents:
                parents[scope.kind] = etree.SubElement(body, "outline", text=folders[scope.kind])
            parent = parents[scope.kind]
        title = html.escape(clean_text(scope.title), quote=False)
        etree.SubElement(
            parent,
            "outline",
            type="rss",
            version="RSS2",
            text=title,
            title=title,
            xmlUrl=settings.url(page.folder + RSS_FILE),
            htmlUrl=scope.home_url,
            language=scope.language,
            description=html.escape(clean_text(scope.description), quote=False),
        )
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _index(
    current: Sequence[FeedPage], archives: Sequence[FeedPage], settings: Settings, newest: datetime
) -> bytes:
    words = labels(settings.language)
    feeds = []
    for page in current:
        scope: FeedScope = page.scope
        feeds.append(
            {
                "id": scope.name,
                "kind": scope.kind,
                "key": scope.key or None,
                "title": clean_text(scope.title),
                "description": clean_text(scope.description),
                "language": scope.language,
                "home_page_url": scope.home_url,
                "items": len(page.entries),
                "total_updates": len(scope.updates),
                "updated": rfc3339(page.updated) if page.entries else None,
                "urls": feed_urls(page.folder, settings),
            }
        )
    document = {
        "version": INDEX_VERSION,
        "title": f"{clean_text(settings.title)} – {words['feeds'].lower()}",
        "home_page_url": settings.url(),
        "index_url": settings.url(INDEX_PATH),
        "opml_url": settings.url(OPML_PATH),
        "updated": rfc3339(newest),
        "websub_hub": settings.websub_hub or None,
        "feed_items": settings.feed_items,
        "feeds": feeds,
        "archives": [
            {
                "number": page.archive_number,
                "items": len(page.entries),
                "updated": rfc3339(page.updated),
                "urls": feed_urls(page.folder, settings, page.formats),
            }
            for page in archives
        ],
    }
    return dumps(document)
