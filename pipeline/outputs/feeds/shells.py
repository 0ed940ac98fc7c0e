"""RSS and Atom document shells written as text: feedgen's bytes without feedgen, for plain words.

A document's shell (:mod:`.rss_atom`: everything but the entries) holds a handful of elements
whose texts are the site's and the scope's words, URLs and dates. feedgen builds it as an lxml
tree (importing feedgen, dateutil and lxml costs 17 ms, building and serialising one shell about
1.5 ms), and an edit build remakes one or two documents, an add build about thirty. Here the same
elements are written in the same order with lxml's serialisation (text escapes ``&``, ``<`` and
``>``; RSS then writes them as hexadecimal references, :func:`~.rss_atom.hex_references`;
pretty-printing indents two spaces per level).

It declines (returns None, and :mod:`.rss_atom` asks feedgen) whenever anything is outside the
plain case it writes exactly: a character below U+0020 or outside XML's range in any text, any
character in a URL or language that an XML attribute would escape, an Atom title or subtitle
that looks like markup (feedgen's extension then marks it ``type="html"``), a date before the
year 1000. ``tests/test_feeds_shells.py`` compares both writers on real pages and generated words.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipeline import __version__
from pipeline.config.site import Settings
from pipeline.outputs.feeds.markup import defuse_tags, looks_like_markup
from pipeline.outputs.feeds.model import ATOM_FILE, FAVICON_PATH, GENERATOR, ICON_PATH, RSS_FILE, FeedPage
from pipeline.reading.sanitize import clean_text

ATOM_NS = "http://www.w3.org/2005/Atom"
DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
RSS_DOCS = "http://www.rssboard.org/rss-specification"

# Text lxml writes with more than the three escapes (controls, CR), or refuses (outside XML).
_UNPLAIN_TEXT = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
# What an attribute value may hold to be written as it is.
_PLAIN_ATTRIBUTE = re.compile(r"[!#-%'-;=?-~]*")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# An element: (tag, attributes, text or children). Text None: an empty element.
Element = tuple[str, tuple[tuple[str, str], ...], "str | list[Element] | None"]


class Decline(Exception):
    """The shell is not in the plain case: feedgen writes it."""


def atom_shell(page: FeedPage, settings: Settings) -> bytes | None:
    """The Atom shell feedgen would write for ``page``, or None when it declines."""
    try:
        title, subtitle = clean_text(page.title()), clean_text(page.scope.description)
        if looks_like_markup(title) or looks_like_markup(subtitle):
            raise Decline
        children: list[Element] = [
            ("id", (), _url(settings.url(page.folder + ATOM_FILE))),
            ("title", (), title),
            ("updated", (), _updated(page).isoformat()),
            (
                "author",
                (),
                [
                    ("name", (), defuse_tags(clean_text(settings.organisation))),
                    ("uri", (), _url(settings.url())),
                ],
            ),
            *(("link", _attributes(link), None) for link in _links(page, settings, ATOM_FILE)),
            ("generator", (("version", _attribute(__version__)),), GENERATOR),
            ("icon", (), _url(settings.url(FAVICON_PATH))),
            ("logo", (), _url(settings.url(ICON_PATH))),
            ("subtitle", (), subtitle),
        ]
        if page.is_archive:
            children.append(("fh:archive", (), None))
        spaces = ' xmlns:fh="http://purl.org/syndication/history/1.0"' if page.is_archive else ""
        root = f'<feed{spaces} xmlns="{ATOM_NS}" xml:lang="{_attribute(page.scope.language)}">'
        return _document(root, "</feed>", children, not page.is_archive, hexadecimal=False)
    except Decline:
        return None


def rss_shell(page: FeedPage, settings: Settings) -> bytes | None:
    """The RSS shell feedgen would write for ``page`` (with hexadecimal references), or None."""
    try:
        title = defuse_tags(clean_text(page.title()))
        home = _url(page.scope.home_url)
        organisation = defuse_tags(clean_text(settings.organisation))
        links = _links(page, settings, RSS_FILE)
        self_link, others = links[:1], links[1:-1]  # RSS's <link> is the HTML page
        updated = _updated(page)
        if updated.year < 1000:
            raise Decline
        children: list[Element] = [
            ("title", (), title),
            ("link", (), home),
            ("description", (), defuse_tags(clean_text(page.scope.description))),
            *(("atom:link", _attributes(link), None) for link in self_link),
            ("docs", (), RSS_DOCS),
            ("generator", (), GENERATOR),
            (
                "image",
                (),
                [
                    ("url", (), _url(settings.url(FAVICON_PATH))),
                    ("title", (), title),
                    ("link", (), home),
                    ("width", (), "64"),
                    ("height", (), "64"),
                ],
            ),
            ("language", (), _text(page.scope.language)),
            ("lastBuildDate", (), _rfc2822(updated)),
            ("managingEditor", (), f"{settings.contact_email} ({organisation})"),
            *(("atom:link", _attributes(link), None) for link in others),
        ]
        root = (
            '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">'
        )
        channel: Element = ("channel", (), children)
        return _document(root, "</rss>", [channel], not page.is_archive, hexadecimal=True)
    except Decline:
        return None


def _links(page: FeedPage, settings: Settings, filename: str) -> list[tuple[tuple[str, str], ...]]:
    """Each link's attributes in feedgen's order: self, the hub and RFC 5005 links, the HTML page."""
    from pipeline.outputs.feeds.rss_atom import ATOM_TYPE, RSS_TYPE, _feed_links

    media_type = RSS_TYPE if filename == RSS_FILE else ATOM_TYPE
    links = [(("href", settings.url(page.folder + filename)), ("rel", "self"), ("type", media_type))]
    for rel, href, link_type in _feed_links(page, settings, filename, media_type):
        links.append((("href", href), ("rel", rel), *((("type", link_type),) if link_type else ())))
    links.append((("href", page.scope.home_url), ("rel", "alternate"), ("type", "text/html")))
    return links


def _updated(page: FeedPage) -> datetime:
    updated = page.updated.replace(microsecond=0)
    if updated.tzinfo is None or updated.utcoffset() is None:
        raise Decline  # feedgen refuses a naive date
    return updated


def _rfc2822(moment: datetime) -> str:
    """``%a, %d %b %Y %H:%M:%S %z`` in the C locale, as feedgen formats it."""
    day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
    return f"{day}, {moment.day:02d} {month} {moment.year} {moment.strftime('%H:%M:%S %z')}"


def _text(value: str) -> str:
    if not isinstance(value, str) or _UNPLAIN_TEXT.search(value):
        raise Decline
    return value


def _url(value: str) -> str:
    """A URL as element text: the plain attribute set, so that no escape is needed either."""
    return _attribute(value)


def _attribute(value: str) -> str:
    if not isinstance(value, str) or not _PLAIN_ATTRIBUTE.fullmatch(value):
        raise Decline
    return value


def _attributes(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, _attribute(value)) for name, value in pairs)


def _escape(text: str, hexadecimal: bool) -> str:
    text = _text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if hexadecimal:
        text = text.replace("&lt;", "&#x3C;").replace("&gt;", "&#x3E;").replace("&amp;", "&#x26;")
    return text


def _document(root: str, closing: str, children: list[Element], pretty: bool, hexadecimal: bool) -> bytes:
    """The declaration, ``root``, the children and ``closing``, serialised as lxml does."""
    out = [root]
    for child in children:
        _write(child, 1, pretty, hexadecimal, out)
    out.append("\n" + closing + "\n" if pretty else closing)
    return DECLARATION + "".join(out).encode("utf-8")


def _write(element: Element, depth: int, pretty: bool, hexadecimal: bool, out: list[str]) -> None:
    tag, attributes, content = element
    indent = "\n" + "  " * depth if pretty else ""
    opening = tag + "".join(f' {name}="{value}"' for name, value in attributes)
    if content == "":
        raise Decline  # feedgen leaves some empty fields out and refuses others
    if content is None:
        out.append(f"{indent}<{opening}/>")
    elif isinstance(content, str):
        out.append(f"{indent}<{opening}>{_escape(content, hexadecimal)}</{tag}>")
    else:
        out.append(f"{indent}<{opening}>")
        for child in content:
            _write(child, depth + 1, pretty, hexadecimal, out)
        out.append(f"{indent}</{tag}>")
