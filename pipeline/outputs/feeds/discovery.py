"""Lists of feeds: OPML files for readers, ``feeds/index.json`` for programs.

An update is in many feeds at once (the site-wide feed, its language, each of its groups and
targets: up to 29), always with the same id, as it must be. Readers that keep one copy per id
(newsboat, newsboat#898) then show it in only one of the feeds an OPML import subscribed to, and
the others look empty. So each OPML file imports feeds that never share an update:

* ``feeds/index.opml`` — the site-wide feed: everything, once (what "import all" should mean);
* ``feeds/languages.opml`` — one feed per language (each update has exactly one language);
* ``feeds/groups.opml`` and ``feeds/targets.opml`` — for readers who pick areas or targets; an
  update about two targets is in both feeds, which docs/feeds.md explains.

The JSON index names each feed with its title, language, HTML page, item count, newest update and
its URL in all three formats, the archive pages, and the OPML files.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest
from pipeline.config.site import Settings
from pipeline.locale import N_, translations
from pipeline.outputs.feeds.jsonfeed import dumps
from pipeline.outputs.feeds.model import (
    ATOM_FILE,
    EMPTY_FEED_UPDATED,
    FEEDS_DIR,
    FORMATS,
    JSON_FILE,
    RSS_FILE,
    FeedPage,
    FeedScope,
)
from pipeline.reading.dates import rfc822, rfc3339
from pipeline.reading.sanitize import clean_text

OPML_PATH = FEEDS_DIR + "index.opml"
# file → the feed kinds it imports; only index.opml and languages.opml are free of overlaps.
OPML_FILES = {
    OPML_PATH: ("site",),
    FEEDS_DIR + "languages.opml": ("lang",),
    FEEDS_DIR + "groups.opml": ("group",),
    FEEDS_DIR + "targets.opml": ("target",),
}
INDEX_PATH = FEEDS_DIR + "index.json"
INDEX_VERSION = 1

# The OPML files' titles by the kind of feed they list (message ids; the site's language).
_FOLDER_TITLES = {
    "lang": N_("{site} – språk"),
    "group": N_("{site} – områden"),
    "target": N_("{site} – delmål"),
}


def build_discovery(pages: Sequence[FeedPage], settings: Settings) -> dict[str, Output]:
    """The OPML files and the JSON index, deferred: made only when what they show changed.

    They show, of each feed page, its place, scope, counts and newest ``updated``, not its
    entries: an edit that leaves those alone leaves all five files alone, and making them
    (lxml and JSON over 229 pages) was 0.03 s of every edit build at 10,000 updates.
    """
    current = [page for page in pages if not page.is_archive]
    archives = sorted((page for page in pages if page.is_archive), key=lambda p: p.archive_number or 0)
    newest = max((page.updated for page in current), default=EMPTY_FEED_UPDATED)
    shown = digest(settings.context_digest, newest, [_shown(page) for page in (*current, *archives)])
    files: dict[str, Output] = {
        path: Deferred(
            digest(shown, path),
            partial(_opml, [page for page in current if page.scope.kind in kinds], settings, newest, path),
        )
        for path, kinds in OPML_FILES.items()
    }
    files[INDEX_PATH] = Deferred(
        digest(shown, INDEX_PATH), partial(_index, current, archives, settings, newest)
    )
    return files


def _shown(page: FeedPage) -> tuple:
    """Everything :func:`_opml` and :func:`_index` read of a page (the settings aside)."""
    scope = page.scope
    return (
        page.folder,
        page.archive_number,
        page.formats,
        scope.kind,
        scope.key,
        scope.words,  # what the title and description are made of: made only with the files
        scope.language,
        scope.home_url,
        len(page.entries),
        len(scope.updates),
        page.updated,
    )


def feed_urls(folder: str, settings: Settings, formats: Sequence[str] = FORMATS) -> dict[str, str]:
    names = {RSS_FILE: "rss", ATOM_FILE: "atom", JSON_FILE: "json"}
    return {names[name]: settings.url(folder + name) for name in formats}


def _opml(current: Sequence[FeedPage], settings: Settings, newest: datetime, path: str) -> bytes:
    from lxml import etree  # only when an OPML file is made: 6 ms to import

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    title = clean_text(settings.title)
    kind = OPML_FILES[path][0]
    if kind in _FOLDER_TITLES:
        title = translations(settings.language).gettext(_FOLDER_TITLES[kind]).format(site=title)
    etree.SubElement(head, "title").text = html.escape(title, quote=False)
    etree.SubElement(head, "dateModified").text = rfc822(newest)
    etree.SubElement(head, "ownerName").text = html.escape(clean_text(settings.organisation), quote=False)
    etree.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for page in current:
        scope = page.scope
        title = html.escape(clean_text(scope.title), quote=False)
        etree.SubElement(
            body,
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
    _ = translations(settings.language).gettext
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
        "title": _("{site} – prenumerera").format(site=clean_text(settings.title)),
        "home_page_url": settings.url(),
        "index_url": settings.url(INDEX_PATH),
        "opml_url": settings.url(OPML_PATH),
        "opml_files": {path.removeprefix(FEEDS_DIR): settings.url(path) for path in OPML_FILES},
        "updated": rfc3339(newest),
        "websub_hub": settings.websub_hub or None,
        "feed_items": settings.feed_items,
        "scope_feed_items": settings.scope_feed_items,
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
