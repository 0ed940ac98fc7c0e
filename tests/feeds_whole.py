"""RSS and Atom documents written whole by feedgen: the writer as it was before entries were spliced.

Every entry is a feedgen entry, rewritten by an entry extension as the old
``pipeline/outputs/feeds/rss_atom.py`` did (relinks, dc:creator, text constructs, CDATA when
shorter, defused tags, per-entry language, which since issue 16 is written only when it is not
the document's); the document is then serialised in one piece by lxml. ``tests/test_feeds_splice.py`` checks that the spliced documents are these bytes.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from pipeline.config.site import Settings
from pipeline.outputs.feeds import rss_atom
from pipeline.outputs.feeds.markup import defuse_tags, looks_like_markup, prefer_cdata
from pipeline.outputs.feeds.model import (
    ATOM_FILE,
    FAVICON_PATH,
    ICON_PATH,
    RSS_FILE,
    Category,
    FeedPage,
    categories,
)
from pipeline.reading.model import Update
from pipeline.reading.sanitize import clean_text

DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_ESCAPE_COST = 3
RSS_ESCAPE_COST = 5


def whole_document(page: FeedPage, settings: Settings, filename: str) -> bytes:
    """``filename`` (rss.xml or atom.xml) of ``page``, every entry built and serialised by feedgen."""
    media_type = rss_atom.RSS_TYPE if filename == RSS_FILE else rss_atom.ATOM_TYPE
    fg = rss_atom._generator(page, settings, filename, media_type)
    fg.register_extension("whole", BaseExtension, _EntryExtras)
    for update in page.entries:
        _fill_entry(fg.add_entry(order="append"), update, page.full_content, page.scope.language)
    if filename == RSS_FILE:
        fg.image(url=settings.url(FAVICON_PATH), width="64", height="64")
        return rss_atom.hex_references(fg.rss_str(pretty=not page.is_archive))
    assert filename == ATOM_FILE
    fg.logo(settings.url(ICON_PATH))
    return fg.atom_str(pretty=not page.is_archive)


def _fill_entry(entry, update: Update, full_content: bool, language: str) -> None:
    title = clean_text(update.title)
    summary = clean_text(update.summary)
    entry.id(update.id)
    entry.title(title)
    entry.published(_seconds(update.date))
    entry.updated(_seconds(update.updated))
    if update.author:
        entry.author(name=defuse_tags(clean_text(update.author)))
    links = _entry_links(update, full_content)
    for link in links:
        entry.link(**link)
    cats = categories(update) if full_content else _terms(update)
    for cat in cats:
        if cat.scheme:
            entry.category(term=cat.term, scheme=cat.scheme)
        else:
            entry.category(term=cat.term)
    entry.summary(summary or title)
    body = update.feed_html if full_content else ""
    if body.strip():
        entry.content(body, type="html")
    entry.whole.configure(update=update, categories=cats, links=links, language=language)


def _terms(update: Update) -> list[Category]:
    return [Category(term=c.term, label=c.term, scheme=None) for c in categories(update)]


def _entry_links(update: Update, full_content: bool) -> list[dict[str, str]]:
    links = []
    image = update.image if full_content else None
    if image is not None:
        media_type = image.media_type or mimetypes.guess_type(urlsplit(image.url).path)[0]
        if media_type:
            enclosure = {"href": image.url, "rel": "enclosure", "type": media_type}
            if image.length is not None:
                enclosure["length"] = str(image.length)
            links.append(enclosure)
    links.append({"href": update.url, "rel": "alternate", "type": "text/html", "hreflang": update.lang})
    return links


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _set_text_construct(element: etree._Element | None) -> None:
    if element is None or element.get("type") or not element.text:
        return
    if looks_like_markup(element.text):
        element.set("type", "html")
        element.text = html.escape(element.text, quote=False)


class _EntryExtras(BaseEntryExtension):
    def __init__(self) -> None:
        self.update: Update | None = None
        self.categories: list = []
        self.links: list[dict[str, str]] = []
        self.language = ""

    def configure(self, update: Update, categories: list, links: list[dict[str, str]], language: str) -> None:
        self.update = update
        self.categories = categories
        self.links = links
        self.language = language  # the document's: an entry in it says only a different one

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        assert self.update is not None
        if self.update.lang != self.language:
            entry.set(XML_LANG, self.update.lang)
        old = entry.findall("link")
        position = entry.index(old[0]) if old else len(entry)
        for element in old:
            entry.remove(element)
        for offset, link in enumerate(self.links):
            entry.insert(position + offset, etree.Element("link", **link))
        _set_text_construct(entry.find("title"))
        _set_text_construct(entry.find("summary"))
        for element, cat in zip(entry.findall("category"), self.categories, strict=True):
            if cat.label != cat.term:
                element.set("label", cat.label)
        for tag in ("title", "summary", "content"):
            element = entry.find(tag)
            if element is not None and element.get("type") == "html":
                _cdata_if_shorter(element, ATOM_ESCAPE_COST)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        assert self.update is not None
        _map_text(item, "title", defuse_tags)
        _map_text(item, "description", lambda text: html.escape(text, quote=False))
        _cdata_if_shorter(item.find("description"), RSS_ESCAPE_COST)
        _cdata_if_shorter(item.find(f"{{{CONTENT_NS}}}encoded"), RSS_ESCAPE_COST)
        for element in item.findall("category"):
            element.text = defuse_tags(element.text or "")
        if self.update.author:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = defuse_tags(clean_text(self.update.author))
        if self.update.lang != self.language:
            etree.SubElement(item, f"{{{DC_NS}}}language").text = self.update.lang
        return item


def _map_text(parent: etree._Element, tag: str, change: Callable[[str], str]) -> None:
    element = parent.find(tag)
    if element is not None and element.text:
        element.text = change(element.text)


def _cdata_if_shorter(element: etree._Element | None, per_escape: int) -> None:
    if element is not None and element.text and prefer_cdata(element.text, per_escape):
        element.text = etree.CDATA(element.text)
