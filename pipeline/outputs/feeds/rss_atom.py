"""RSS 2.0 and Atom 1.0 documents with feedgen, made deterministic and validator-clean.

feedgen's defaults that would break that, and what we do about each:

* it stamps "now" into ``updated``/``lastBuildDate``: we always set them from the page
  (:attr:`FeedPage.updated`, the newest entry's ``updated``, or a fixed instant for an empty feed);
* it *prepends* entries: we add them with ``order="append"``, newest first;
* the last ``link()`` call becomes RSS's channel ``<link>`` whatever its ``rel``: the HTML page is
  always the last link added;
* RSS gets only the first ``rel="self"`` atom:link: a feedgen extension (:class:`_FeedLinks`) adds
  ``rel="hub"`` and the RFC 5005 links to the RSS channel, and ``fh:archive`` to Atom archives.

An entry extension (:class:`_EntryExtras`) adds what feedgen has no call for: per-entry language
(``xml:lang`` / ``dc:language``), the author's name in RSS (``dc:creator``; RSS ``<author>`` must
be an email address), category labels in Atom, and the text-or-HTML choice for Atom titles and
summaries (see :mod:`.markup`).

HTML payloads (RSS ``<description>`` and ``<content:encoded>``, Atom ``type="html"`` content,
summaries and titles) are written as CDATA sections when that is shorter than escaping
(:func:`.markup.prefer_cdata`): every XML parser reads the same text, and typical content is
about a third smaller. Other RSS text is written with hexadecimal character references
(``&#x3C;``, ``&#x26;``) as the RSS Best Practices Profile recommends, so no reader mistakes
escaped text for markup; CDATA sections are left as they are.
"""

from __future__ import annotations

import html
import mimetypes
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from pipeline import __version__
from pipeline.config.site import Settings
from pipeline.outputs.feeds.markup import defuse_tags, looks_like_markup, prefer_cdata
from pipeline.outputs.feeds.model import (
    ATOM_FILE,
    FAVICON_PATH,
    GENERATOR,
    ICON_PATH,
    RSS_FILE,
    Category,
    FeedPage,
    categories,
)
from pipeline.reading.model import Update
from pipeline.reading.sanitize import clean_text

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EXT = "goal17"

Link = tuple[str, str, "str | None"]  # rel, href, media type

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
# Bytes that escaping adds per markup character: Atom's ``&lt;``, RSS's ``&#x3C;``.
ATOM_ESCAPE_COST = 3
RSS_ESCAPE_COST = 5


def render_rss(page: FeedPage, settings: Settings) -> bytes:
    fg = _generator(page, settings, RSS_FILE, RSS_TYPE)
    fg.image(url=settings.url(FAVICON_PATH), width="64", height="64")  # feedgen: also Atom's logo
    return _hex_references(fg.rss_str(pretty=not page.is_archive))


def render_atom(page: FeedPage, settings: Settings) -> bytes:
    fg = _generator(page, settings, ATOM_FILE, ATOM_TYPE)
    fg.logo(settings.url(ICON_PATH))  # feedgen: also RSS's image
    return fg.atom_str(pretty=not page.is_archive)


_last = threading.local()  # the most recent page's filled generator, per thread


def _generator(page: FeedPage, settings: Settings, filename: str, media_type: str) -> FeedGenerator:
    """The page's generator, addressed as ``filename``: its own id, self and RFC 5005 links.

    Entries are the same in RSS and Atom, and filling them is a third of a feed's cost, so the
    filled generator of the last page is kept and only re-addressed for the other format (the
    build makes a page's files one after another: they sit next to each other in path order).
    """
    memo = getattr(_last, "memo", None)
    if memo is not None and memo[0] is page and memo[1] is settings:
        fg = memo[2]
    else:
        fg = _filled(page, settings)
        _last.memo = (page, settings, fg)
    links = _feed_links(page, settings, filename, media_type)
    getattr(fg, EXT).configure(links=links, archive=page.is_archive, rss=filename == RSS_FILE)
    self_url = settings.url(page.folder + filename)
    fg.id(self_url)
    fg.link(href=self_url, rel="self", type=media_type, replace=True)
    for rel, href, link_type in links:
        fg.link(href=href, rel=rel, **({"type": link_type} if link_type else {}))
    # Last, so that feedgen makes it the RSS channel <link>.
    fg.link(href=page.scope.home_url, rel="alternate", type="text/html")
    return fg


def _filled(page: FeedPage, settings: Settings) -> FeedGenerator:
    """A generator with the page's feed-level text and its entries, not yet addressed."""
    scope = page.scope
    fg = FeedGenerator()
    fg.register_extension(EXT, _FeedLinks, _EntryExtras)
    fg.title(clean_text(page.title()))
    fg.subtitle(clean_text(scope.description))
    fg.author(name=defuse_tags(clean_text(settings.organisation)), uri=settings.url())
    # RSS only: the organisation as the channel's fallback author, "address (Name)" as RSS wants
    # it. feedparser reads it as the feed's author_detail.name, which rss2email shows for an
    # item without an author (instead of a literal "<author>").
    fg.managingEditor(f"{settings.contact_email} ({defuse_tags(clean_text(settings.organisation))})")
    fg.language(scope.language)
    fg.generator(GENERATOR, version=__version__)
    fg.updated(_seconds(page.updated))
    fg.icon(settings.url(FAVICON_PATH))  # Atom only
    for update in page.entries:
        entry = fg.add_entry(order="append")
        _fill_entry(entry, update, settings, page.full_content)
    return fg


def _feed_links(page: FeedPage, settings: Settings, filename: str, media_type: str) -> list[Link]:
    """(rel, href, type) of the WebSub hub and the RFC 5005 links, in a fixed order."""
    links: list[Link] = []
    if settings.websub_hub and not page.is_archive:  # archive pages never change: nothing to push
        links.append(("hub", settings.websub_hub, None))
    if page.links_archive(filename):
        links.append(("prev-archive", settings.url(page.prev_archive + filename), media_type))
    if page.current:
        links.append(("current", settings.url(page.current + filename), media_type))
    return links


def _fill_entry(entry, update: Update, settings: Settings, full_content: bool) -> None:
    title = clean_text(update.title)
    summary = clean_text(update.summary)
    entry.id(update.id)  # also RSS <guid isPermaLink="false">
    entry.title(title)
    entry.published(_seconds(update.date))  # Atom <published>, RSS <pubDate>
    entry.updated(_seconds(update.updated))
    if update.author:
        entry.author(name=defuse_tags(clean_text(update.author)))  # Atom names have no type: plain text
    links = _entry_links(update, full_content)
    for link in links:
        entry.link(**link)  # feedgen derives RSS <enclosure> and <link> from these
    cats = categories(update) if full_content else _terms(update)
    for cat in cats:
        if cat.scheme:
            entry.category(term=cat.term, scheme=cat.scheme)
        else:
            entry.category(term=cat.term)
    # summary() fills Atom <summary> and RSS <description> (escaped in extend_rss: RSS readers
    # treat it as HTML). An update without text is summarised by its title: an entry with neither
    # summary nor content, or an empty one, is flagged by validators.
    entry.summary(summary or title)
    body = update.feed_html if full_content else ""
    if body.strip():
        entry.content(body, type="html")
    getattr(entry, EXT).configure(update=update, categories=cats, links=links)


def _terms(update: Update) -> list[Category]:
    """Archive entries' categories: the terms alone (labels and scheme are in the current feeds)."""
    return [Category(term=c.term, label=c.term, scheme=None) for c in categories(update)]


def _entry_links(update: Update, full_content: bool = True) -> list[dict[str, str]]:
    """The image enclosure (when its media type is known; not on archive pages), then the page."""
    links = []
    image = update.image if full_content else None
    if image is not None:
        media_type = image.media_type or mimetypes.guess_type(urlsplit(image.url).path)[0]
        if media_type:
            enclosure = {"href": image.url, "rel": "enclosure", "type": media_type}
            if image.length is not None:
                enclosure["length"] = str(image.length)
            links.append(enclosure)
    # Last: feedgen makes the last alternate link the RSS item <link>.
    links.append({"href": update.url, "rel": "alternate", "type": "text/html", "hreflang": update.lang})
    return links


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _atom(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _set_text_construct(element: etree._Element | None) -> None:
    """Atom text that looks like markup is sent as escaped HTML, which reads back the same."""
    if element is None or element.get("type") or not element.text:
        return
    if looks_like_markup(element.text):
        element.set("type", "html")
        element.text = html.escape(element.text, quote=False)


class _FeedLinks(BaseExtension):
    """Feed-level additions feedgen lacks (see module docstring)."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.archive = False
        self.rss = False

    def configure(self, links: list[Link], archive: bool, rss: bool) -> None:
        self.links = links
        self.archive = archive
        self.rss = rss

    def extend_ns(self) -> dict[str, str]:
        if self.rss:
            return {"dc": DC_NS}
        return {"fh": FH_NS} if self.archive else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        _set_text_construct(feed.find("title"))
        _set_text_construct(feed.find("subtitle"))
        if self.archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss.find("channel")
        for tag in ("title", "description"):
            element = channel.find(tag)
            if element is not None and element.text:
                element.text = defuse_tags(element.text)
        image_title = channel.find("image/title")
        if image_title is not None and image_title.text:
            image_title.text = defuse_tags(image_title.text)
        for rel, href, link_type in self.links:
            link = etree.SubElement(channel, _atom("link"), href=href, rel=rel)
            if link_type:
                link.set("type", link_type)
        return rss


class _EntryExtras(BaseEntryExtension):
    """Entry-level additions feedgen lacks (see module docstring)."""

    def __init__(self) -> None:
        self.update: Update | None = None
        self.categories: list = []
        self.links: list[dict[str, str]] = []

    def configure(self, update: Update, categories: list, links: list[dict[str, str]]) -> None:
        self.update = update
        self.categories = categories
        self.links = links

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        assert self.update is not None
        entry.set(XML_LANG, self.update.lang)
        # feedgen 1.0 writes entry links without their rel/type attributes: write them again.
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
        etree.SubElement(item, f"{{{DC_NS}}}language").text = self.update.lang
        return item


def _map_text(parent: etree._Element, tag: str, change: Callable[[str], str]) -> None:
    element = parent.find(tag)
    if element is not None and element.text:
        element.text = change(element.text)


def _cdata_if_shorter(element: etree._Element | None, per_escape: int) -> None:
    if element is not None and element.text and prefer_cdata(element.text, per_escape):
        element.text = etree.CDATA(element.text)


def _hex_references(document: bytes) -> bytes:
    """``&lt;`` → ``&#x3C;`` etc.: the same characters, in the form the RSS Profile recommends.

    Only outside CDATA sections: inside one, ``&lt;`` is literal text (HTML that means ``<``).
    """
    out = []
    position = 0
    while (start := document.find(b"<![CDATA[", position)) != -1:
        end = document.index(b"]]>", start) + 3  # a section ends at the first "]]>"
        out += [_hex(document[position:start]), document[start:end]]
        position = end
    out.append(_hex(document[position:]))
    return b"".join(out)


def _hex(text: bytes) -> bytes:
    return text.replace(b"&lt;", b"&#x3C;").replace(b"&gt;", b"&#x3E;").replace(b"&amp;", b"&#x26;")
