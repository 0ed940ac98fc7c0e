"""RSS items and Atom entries written as text, once per update, and spliced into every document.

An update is in up to eight subscription documents (site, language, area and target feeds) and
in one RFC 5005 archive page, in two formats each. Building each entry as feedgen elements, then
rewriting them (:mod:`.rss_atom`'s rules: CDATA, hex references, defused tags, extra links) cost
≈ 160 µs per entry and format, 3.5 s of CPU for a 10,000-update site. Here an entry is written
directly as the text feedgen and lxml would give for it, and a subscription document's entries
are kept per build process (:func:`cached_entry`), so a document costs its shell and a join.

The text is exactly what lxml serialises for the elements the feedgen writer made: the same
element order and attribute order, the same escaping (``&amp;`` ``&lt;`` ``&gt;`` in text,
also ``&quot;`` ``&#10;`` ``&#13;`` ``&#9;`` in attributes, ``&#13;`` in text), the same
pretty-printed layout (two spaces per level; text-only elements inline), and in RSS the
hexadecimal references of :func:`.rss_atom.hex_references`. ``tests/test_feeds_splice.py``
compares every document with one written whole by feedgen, on generated hostile text.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from pipeline.outputs.feeds.markup import defuse_tags, looks_like_markup, prefer_cdata
from pipeline.outputs.feeds.model import categories
from pipeline.reading.model import Update
from pipeline.reading.sanitize import clean_text

# Bytes that escaping adds per markup character: Atom's ``&lt;``, RSS's ``&#x3C;``.
ATOM_ESCAPE_COST = 3
RSS_ESCAPE_COST = 5

# Where an entry sits in a pretty-printed document: RSS rss/channel/item, Atom feed/entry.
RSS_DEPTH = 2
ATOM_DEPTH = 1

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def text(value: str) -> str:
    """Element text as lxml writes it."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def attribute(value: str) -> str:
    """An attribute value (between double quotes) as lxml writes it: also ``"`` and the line
    break and tab, which a parser would otherwise normalise to spaces."""
    return text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def rss_text(value: str) -> str:
    """Element text as lxml writes it, with RSS's hexadecimal references (see module docstring)."""
    return value.replace("&", "&#x26;").replace("<", "&#x3C;").replace(">", "&#x3E;").replace("\r", "&#13;")


def rss_attribute(value: str) -> str:
    """An attribute value as lxml writes it, with RSS's hexadecimal references."""
    return rss_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def feedgen_date(moment: datetime) -> str:
    """feedgen's ``formatRFC2822`` (``%a, %d %b %Y %H:%M:%S %z`` in the C locale), without
    switching the locale twice per date and without strftime (a tenth of an archive entry).

    The zone's text is kept per offset (a site has two or three), and the rest is one
    ``%``-format: half the cost of formatting each field in an f-string."""
    offset = moment.utcoffset()
    zone = _ZONES.get(offset)
    if zone is None:
        if offset is None or offset.microseconds or offset.seconds % 60:
            zone = moment.strftime("%z")  # no offset, or one with seconds: strftime's own form
        else:
            minutes = offset.days * 1440 + offset.seconds // 60
            sign = "-" if minutes < 0 else "+"
            zone = _ZONES[offset] = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return "%s, %02d %s %d %02d:%02d:%02d %s" % (  # noqa: UP031 (faster than the f-string here)
        _DAYS[moment.weekday()],
        moment.day,
        _MONTHS[moment.month - 1],
        moment.year,
        moment.hour,
        moment.minute,
        moment.second,
        zone,
    )


_ZONES: dict[timedelta, str] = {}  # an offset in whole minutes -> its "+0100"


def seconds(moment: datetime) -> datetime:
    """Feeds carry whole seconds (``replace`` is skipped when they are: it is not free)."""
    return moment.replace(microsecond=0) if moment.microsecond else moment


def element(tag: str, body: str, attributes: str = "") -> str:
    """An element with text (already escaped) and attributes (already written, each with its space)."""
    return f"<{tag}{attributes}>{body}</{tag}>"


def html_payload(value: str, per_escape: int, escape: Callable[[str], str]) -> str:
    """HTML carried as text: one CDATA section when that is shorter (:func:`.markup.prefer_cdata`)."""
    if value and prefer_cdata(value, per_escape):
        return f"<![CDATA[{value}]]>"
    return escape(value)


def layout(open_tag: str, close_tag: str, children: list[str], depth: int, pretty: bool) -> str:
    """An element holding only elements, as lxml lays it out at ``depth`` (the document's child
    elements are depth 1), with the line break that follows it in a pretty document."""
    if not pretty:
        return open_tag + "".join(children) + close_tag
    indent = "  " * depth
    inner = "\n" + indent + "  "
    return f"{indent}{open_tag}{inner}{inner.join(children)}\n{indent}{close_tag}\n"


def image_enclosure(update: Update, full_content: bool) -> dict[str, str] | None:
    """The image as an enclosure link (href, rel, type[, length]) when its media type is known;
    archive pages carry none."""
    image = update.image if full_content else None
    if image is None:
        return None
    media_type = image.media_type or mimetypes.guess_type(urlsplit(image.url).path)[0]
    if not media_type:
        return None
    enclosure = {"href": image.url, "rel": "enclosure", "type": media_type}
    if image.length is not None:
        enclosure["length"] = str(image.length)
    return enclosure


Term = tuple[str, "str | None", str]  # a category's term, scheme and label


def entry_categories(update: Update, full_content: bool) -> list[Term]:
    """Targets with their scheme and label, then tags; archive entries: the terms alone (labels
    and scheme are in the current feeds), made without looking up the targets' labels."""
    if full_content:
        return [(cat.term, cat.scheme, cat.label) for cat in categories(update)]
    return [(term, None, term) for term in (*update.targets, *map(clean_text, update.tags))]


class Facts(NamedTuple):
    """What an update's RSS item and Atom entry both say, cleaned once for the two formats."""

    title: str
    summary: str  # the summary, or the title when there is none
    author: str | None  # tag-defused; None when the update names no author
    categories: list[Term]


# An archive page is made as RSS and as Atom by the same process (its two files are next to
# each other in the publish order) and a subscription document's entries in both formats too:
# each update's cleaned texts are kept for the other format, by identity (the update is kept in
# the value, so its id cannot be reused while it is here).
_FACTS: dict[tuple[int, bool], tuple[Update, Facts]] = {}
_MAX_FACTS = 4096


def entry_facts(update: Update, full_content: bool) -> Facts:
    """The cleaned title, summary, author and categories of ``update``'s entries."""
    key = (id(update), full_content)
    found = _FACTS.get(key)
    if found is not None and found[0] is update:
        return found[1]
    title = clean_text(update.title)
    facts = Facts(
        title,
        clean_text(update.summary) or title,
        defuse_tags(clean_text(update.author)) if update.author else None,
        entry_categories(update, full_content),
    )
    if len(_FACTS) >= _MAX_FACTS:
        _FACTS.clear()
    _FACTS[key] = (update, facts)
    return facts


def rss_item(update: Update, full_content: bool, pretty: bool, language: str) -> bytes:
    """One ``<item>``: title, link, description (and content:encoded), guid, categories,
    enclosure, pubDate, dc:creator, and dc:language unless it is the channel's ``language``."""
    title, summary, author, terms = entry_facts(update, full_content)
    children = []
    if title:
        children.append(element("title", rss_text(defuse_tags(title))))
    children.append(element("link", rss_text(update.url)))
    if summary:
        description = html.escape(summary, quote=False)  # RSS readers treat it as HTML
        children.append(element("description", html_payload(description, RSS_ESCAPE_COST, rss_text)))
    body = update.feed_html if full_content else ""
    if summary and body.strip():
        children.append(element("content:encoded", html_payload(body, RSS_ESCAPE_COST, rss_text)))
    children.append(element("guid", rss_text(update.id), ' isPermaLink="false"'))
    for term, scheme, _label in terms:
        domain = f' domain="{rss_attribute(scheme)}"' if scheme else ""
        children.append(element("category", rss_text(defuse_tags(term)), domain))
    enclosure = image_enclosure(update, full_content)
    if enclosure is not None:
        url = rss_attribute(enclosure["href"])
        length = rss_attribute(enclosure.get("length") or "0")  # RSS: "0" is "unknown"
        media_type = rss_attribute(enclosure["type"])
        children.append(f'<enclosure url="{url}" length="{length}" type="{media_type}"/>')
    children.append(element("pubDate", rss_text(feedgen_date(seconds(update.date)))))
    if author is not None:
        children.append(element("dc:creator", rss_text(author)))
    if update.lang != language:  # an item is in its channel's language unless it says otherwise
        children.append(element("dc:language", rss_text(update.lang)))
    return layout("<item>", "</item>", children, RSS_DEPTH, pretty).encode("utf-8")


def atom_text_construct(tag: str, value: str) -> str:
    """A title or summary: escaped HTML (``type="html"``) when the text looks like markup."""
    if value and looks_like_markup(value):
        escaped = html.escape(value, quote=False)
        return element(tag, html_payload(escaped, ATOM_ESCAPE_COST, text), ' type="html"')
    return element(tag, text(value)) if value else f"<{tag}/>"


def same_moment_text(a: datetime, b: datetime) -> bool:
    """Whether ``a`` and ``b`` are written the same by ``isoformat``: equal fields, the same
    ``tzinfo`` object and fold (``==`` alone also holds for one instant in two zones)."""
    return a == b and a.tzinfo is b.tzinfo and a.fold == b.fold


def atom_entry(update: Update, full_content: bool, pretty: bool, language: str) -> bytes:
    """One ``<entry>``: id, title, updated, author, content, links, summary, categories,
    published; ``xml:lang`` unless it is the feed's ``language`` (XML inherits it)."""
    title, summary, name, terms = entry_facts(update, full_content)
    updated, published = seconds(update.updated), seconds(update.date)
    updated_text = text(updated.isoformat())
    children = [
        element("id", text(update.id)),
        atom_text_construct("title", title),
        element("updated", updated_text),
    ]
    if name:  # Atom names have no type: plain text
        author = [element("name", text(name))]
        children.append(layout("<author>", "</author>", author, ATOM_DEPTH + 1, pretty).strip())
    body = update.feed_html if full_content else ""
    if body.strip():
        children.append(element("content", html_payload(body, ATOM_ESCAPE_COST, text), ' type="html"'))
    enclosure = image_enclosure(update, full_content)
    if enclosure is not None:
        children.append("<link" + "".join(f' {k}="{attribute(v)}"' for k, v in enclosure.items()) + "/>")
    href, hreflang = attribute(update.url), attribute(update.lang)
    children.append(f'<link href="{href}" rel="alternate" type="text/html" hreflang="{hreflang}"/>')
    children.append(atom_text_construct("summary", summary))
    for term, scheme, label in terms:
        attributes = f' term="{attribute(term)}"'
        if scheme:
            attributes += f' scheme="{attribute(scheme)}"'
        if label != term:
            attributes += f' label="{attribute(label)}"'
        children.append(f"<category{attributes}/>")
    # Most updates were never updated: their two dates are one text, written once.
    same = same_moment_text(updated, published)
    children.append(element("published", updated_text if same else text(published.isoformat())))
    start = "<entry>" if update.lang == language else f'<entry xml:lang="{attribute(update.lang)}">'
    return layout(start, "</entry>", children, ATOM_DEPTH, pretty).encode("utf-8")


WRITERS = {"rss": rss_item, "atom": atom_entry}


# A site's subscription documents carry each update up to eight times per format: its entry is
# written once per build process and its bytes reused. The key is the update itself (a frozen
# dataclass, equal only when every field is), so an edited update is written afresh. Archive
# pages carry each update once per format and are not cached: 4,096 entries cover every
# subscription document of a site.
@lru_cache(maxsize=4096)
def cached_entry(kind: str, update: Update, full_content: bool, pretty: bool, language: str) -> bytes:
    """``WRITERS[kind](update, full_content, pretty, language)``, written once per process."""
    return WRITERS[kind](update, full_content, pretty, language)
