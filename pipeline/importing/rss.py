"""RSS 2.0, including what real feeds add: ``content:encoded``, ``dc:creator``, ``dc:date`` and
Feedburner's ``feedburner:origLink`` (the article's real address behind a tracking link)."""

from __future__ import annotations

import re

from lxml import etree

from pipeline.importing import timestamps
from pipeline.importing.model import Entry, Feed, ImportFailed
from pipeline.importing.xmlparse import text_of

CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
FEEDBURNER = "{http://rssnamespace.org/feedburner/ext/1.0}"
# "someone@example.se (Anna Andersson)": RSS 2.0 wants an address; people want the name.
_AUTHOR = re.compile(r"^\s*[^@\s()]+@[^@\s()]+\s*\((?P<name>[^)]+)\)\s*$")


def read(root: etree._Element, name: str) -> Feed:
    channel = root.find("channel")
    if channel is None:
        raise ImportFailed(f"{name}: not a feed: <rss> without a <channel>")
    entries = tuple(read_item(item) for item in channel.findall("item"))
    return Feed(
        format="RSS 2.0",
        title=text_of(channel.find("title")) or "",
        link=text_of(channel.find("link")),
        lang=text_of(channel.find("language")) or text_of(channel.find(f"{DC}language")),
        entries=entries,
    )


def read_item(item: etree._Element) -> Entry:
    """One ``<item>``; also the common part of a WordPress export item."""
    link = text_of(item.find(f"{FEEDBURNER}origLink")) or text_of(item.find("link"))
    guid = text_of(item.find("guid"))
    description = text_of(item.find("description"))
    encoded = text_of(item.find(f"{CONTENT}encoded"))
    notes: list[str] = []
    raw_date = text_of(item.find("pubDate"))
    published = timestamps.rfc822(raw_date) or timestamps.iso(text_of(item.find(f"{DC}date")))
    if raw_date and published is None:
        notes.append(f"unreadable date {raw_date!r}")
    for enclosure in item.findall("enclosure"):
        if enclosure.get("url"):
            kind = enclosure.get("type") or "no type"
            notes.append(f"enclosure not imported: {enclosure.get('url')} ({kind}): link to it in the text")
    return Entry(
        line=item.sourceline or 1,
        original_id=guid or None,
        link=link,
        title=text_of(item.find("title")) or "",
        published=published,
        updated=None,
        author=author_name(text_of(item.find(f"{DC}creator")) or text_of(item.find("author"))),
        categories=tuple(c for c in (text_of(e) for e in item.findall("category")) if c),
        summary_html=description if encoded else None,
        content_html=encoded or description,
        lang=text_of(item.find(f"{DC}language")),
        notes=tuple(notes),
    )


def author_name(value: str | None) -> str | None:
    if not value:
        return None
    match = _AUTHOR.match(value)
    return match.group("name").strip() if match else value.strip()
