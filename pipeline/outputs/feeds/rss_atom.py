"""RSS 2.0 and Atom 1.0 documents: feedgen writes the shell, the entries are spliced in.

A document is its shell (RSS ``<channel>`` head, Atom ``<feed>`` head: everything but the
entries), made by feedgen, and its entries, written once as text by :mod:`.entries` and joined
in before the closing ``</channel>``/``</feed>``: feedgen adds entries last, so a whole document
and a spliced one are the same bytes (``tests/test_feeds_splice.py``).

feedgen's defaults that would break a deterministic, validator-clean shell, and what we do:

* it stamps "now" into ``updated``/``lastBuildDate``: we always set them from the page
  (:attr:`FeedPage.updated`, the newest entry's ``updated``, or a fixed instant for an empty feed);
* the last ``link()`` call becomes RSS's channel ``<link>`` whatever its ``rel``: the HTML page is
  always the last link added;
* RSS gets only the first ``rel="self"`` atom:link: a feedgen extension (:class:`_FeedLinks`) adds
  ``rel="hub"`` and the RFC 5005 links to the RSS channel, and ``fh:archive`` to Atom archives.

What each entry carries (per-entry language, the author's name in RSS as ``dc:creator``,
category labels in Atom, the text-or-HTML choice for Atom titles and summaries, CDATA for HTML
when shorter) is described in :mod:`.entries`. Other RSS text is written with hexadecimal
character references (``&#x3C;``, ``&#x26;``) as the RSS Best Practices Profile recommends, so no
reader mistakes escaped text for markup; CDATA sections are left as they are.
"""

from __future__ import annotations

import html
from functools import cache
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.config.site import Settings
from pipeline.outputs.feeds.entries import WRITERS, cached_entry
from pipeline.outputs.feeds.markup import defuse_tags, looks_like_markup
from pipeline.outputs.feeds.model import ATOM_FILE, FAVICON_PATH, GENERATOR, ICON_PATH, RSS_FILE, FeedPage
from pipeline.outputs.feeds.shells import atom_shell, rss_shell
from pipeline.reading.sanitize import clean_text

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator
    from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"
EXT = "goal17"

Link = tuple[str, str, "str | None"]  # rel, href, media type

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"


def render_rss(page: FeedPage, settings: Settings) -> bytes:
    shell = rss_shell(page, settings)  # the plain case without feedgen (:mod:`.shells`)
    if shell is None:
        shell = feedgen_rss_shell(page, settings)
    return _splice(shell, b"</channel>", 1, _entries("rss", page))


def render_atom(page: FeedPage, settings: Settings) -> bytes:
    shell = atom_shell(page, settings)
    if shell is None:
        shell = feedgen_atom_shell(page, settings)
    return _splice(shell, b"</feed>", 0, _entries("atom", page))


def feedgen_rss_shell(page: FeedPage, settings: Settings) -> bytes:
    """The RSS shell as feedgen writes it (with hexadecimal references)."""
    fg = _generator(page, settings, RSS_FILE, RSS_TYPE)
    fg.image(url=settings.url(FAVICON_PATH), width="64", height="64")  # feedgen: also Atom's logo
    return hex_references(fg.rss_str(pretty=not page.is_archive))


def feedgen_atom_shell(page: FeedPage, settings: Settings) -> bytes:
    """The Atom shell as feedgen writes it."""
    fg = _generator(page, settings, ATOM_FILE, ATOM_TYPE)
    fg.logo(settings.url(ICON_PATH))  # feedgen: also RSS's image
    return fg.atom_str(pretty=not page.is_archive)


def _entries(kind: str, page: FeedPage) -> list[bytes]:
    """The page's entries as text; a subscription document's come from the per-process cache."""
    pretty = not page.is_archive
    language = page.scope.language  # the document's: entries in it say only a different one
    if page.is_archive:  # each update is on one archive page: nothing to reuse
        write = WRITERS[kind]
        return [write(update, page.full_content, pretty, language) for update in page.entries]
    return [cached_entry(kind, update, page.full_content, pretty, language) for update in page.entries]


def _splice(shell: bytes, closing: bytes, depth: int, entries: list[bytes]) -> bytes:
    """``entries`` joined in where feedgen appends them: right before the shell's ``closing``
    tag, or before that tag's line (indented two spaces per ``depth``) when pretty-printed.
    The closing tag is the last one of its kind: escaped text never holds a ``<``."""
    end = shell.rindex(closing)
    if shell[end - 2 * depth - 1 : end] == b"\n" + b"  " * depth:
        end -= 2 * depth
    return b"".join((shell[:end], *entries, shell[end:]))


def _generator(page: FeedPage, settings: Settings, filename: str, media_type: str) -> FeedGenerator:
    """The page's shell generator (no entries), addressed as ``filename``: its own id, self and
    RFC 5005 links."""
    from feedgen.feed import FeedGenerator  # with lxml and dateutil: only when feedgen writes

    scope = page.scope
    fg = FeedGenerator()
    fg.register_extension(EXT, _feed_links_extension())
    fg.title(clean_text(page.title()))
    fg.subtitle(clean_text(scope.description))
    fg.author(name=defuse_tags(clean_text(settings.organisation)), uri=settings.url())
    # RSS only: the organisation as the channel's fallback author, "address (Name)" as RSS wants
    # it. feedparser reads it as the feed's author_detail.name, which rss2email shows for an
    # item without an author (instead of a literal "<author>").
    fg.managingEditor(f"{settings.contact_email} ({defuse_tags(clean_text(settings.organisation))})")
    fg.language(scope.language)
    fg.generator(GENERATOR, version=__version__)
    fg.updated(page.updated.replace(microsecond=0))
    fg.icon(settings.url(FAVICON_PATH))  # Atom only
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


def _set_text_construct(element: etree._Element | None) -> None:  # feedgen's tree
    """Atom text that looks like markup is sent as escaped HTML, which reads back the same."""
    if element is None or element.get("type") or not element.text:
        return
    if looks_like_markup(element.text):
        element.set("type", "html")
        element.text = html.escape(element.text, quote=False)


@cache
def _feed_links_extension() -> type:
    """The feedgen extension class, made when feedgen is first used (it imports feedgen)."""
    from feedgen.ext.base import BaseExtension
    from lxml import etree

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
                link = etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
                if link_type:
                    link.set("type", link_type)
            return rss

    return _FeedLinks


def hex_references(document: bytes) -> bytes:
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
