"""What every input format is read into: a :class:`Feed` of :class:`Entry` values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ImportFailed(Exception):
    """An input that cannot be imported; the message is one line, naming the input."""


@dataclass(frozen=True)
class Entry:
    """One news item as the source had it, before any decision about files."""

    line: int  # line of the item in the input, for messages
    original_id: str | None  # RSS guid, Atom id
    link: str | None  # the item's page on the old site (also the base of its relative URLs)
    title: str
    published: datetime | None  # aware
    updated: datetime | None
    author: str | None
    categories: tuple[str, ...]  # looked up in the mapping file (unknown ones need a human)
    tags: tuple[str, ...] = ()  # free keywords (WordPress post tags); may be mapped too
    summary_html: str | None = None
    content_html: str | None = None
    lang: str | None = None  # as the source wrote it (sv-SE, en-GB, …)
    draft: bool = False
    slug: str | None = None  # the old site's slug, when the format has one
    notes: tuple[str, ...] = ()  # what a human should look at, from reading the source
    wordpress: bool = False  # content is WordPress post_content (paragraphs by blank lines)
    base: str | None = None  # what relative URLs in the content are relative to (else ``link``)


@dataclass(frozen=True)
class Skipped:
    line: int
    title: str
    reason: str


@dataclass(frozen=True)
class Feed:
    format: str  # "RSS 2.0", "Atom", "WordPress WXR"
    title: str
    link: str | None
    lang: str | None
    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...] = field(default=())
