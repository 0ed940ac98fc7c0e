"""WordPress eXtended RSS (WXR), the file Tools → Export writes: RSS 2.0 plus ``wp:`` elements.

Only posts are news: pages, attachments, menu items, revisions and reusable blocks are skipped
and listed. Drafts, pending and private posts come in as drafts (``draft: true``), scheduled
("future") posts with their date, so a build publishes them when it is due; trashed posts are
skipped. The GMT date is the moment; without it (drafts) the local date in the site's zone.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from lxml import etree

from pipeline.importing import rss, timestamps
from pipeline.importing.model import Feed, ImportFailed, Skipped
from pipeline.importing.xmlparse import WXR_NS_PREFIX, text_of

EXCERPT_PREFIX = "excerpt/"
DRAFT_STATUSES = {"draft": "a draft", "pending": "pending review", "private": "private"}
SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}
# Taxonomies that are plumbing, not subjects: post formats and Polylang's translation groups.
IGNORED_TAXONOMIES = {"post_format", "post_translations", "term_translations", "nav_menu"}


def read(root: etree._Element, name: str, tz: ZoneInfo) -> Feed:
    channel = root.find("channel")
    if channel is None:
        raise ImportFailed(f"{name}: not a WordPress export: <rss> without a <channel>")
    wp = _namespace(root)
    excerpt = "{" + wp + EXCERPT_PREFIX + "}"
    wp = "{" + wp + "}"
    authors = {
        text_of(a.find(f"{wp}author_login")): text_of(a.find(f"{wp}author_display_name"))
        for a in channel.findall(f"{wp}author")
    }
    entries = []
    skipped = []
    for item in channel.findall("item"):
        entry = rss.read_item(item)
        title = entry.title or "(untitled)"
        post_type = text_of(item.find(f"{wp}post_type")) or "post"
        status = text_of(item.find(f"{wp}status")) or "publish"
        if post_type != "post":
            skipped.append(Skipped(entry.line, title, f"WordPress {post_type}, not a post"))
            continue
        if status in SKIPPED_STATUSES:
            skipped.append(Skipped(entry.line, title, f"WordPress status {status!r}"))
            continue
        moment = timestamps.wordpress(text_of(item.find(f"{wp}post_date_gmt")), ZoneInfo("UTC"))
        moment = moment or timestamps.wordpress(text_of(item.find(f"{wp}post_date")), tz)
        notes = [n for n in entry.notes if moment is None or not n.startswith("unreadable date")]
        moment = moment or entry.published
        categories, tags = [], []
        lang = entry.lang
        for category in item.findall("category"):
            value, domain = text_of(category), category.get("domain", "category")
            if not value or domain in IGNORED_TAXONOMIES:
                continue
            if domain == "language":  # Polylang's language of the post
                lang = category.get("nicename") or value
            elif domain == "post_tag":
                tags.append(value)
            else:
                categories.append(value)
        if status in DRAFT_STATUSES:
            notes.append(f"{DRAFT_STATUSES[status]} in WordPress: imported as a draft")
        login = entry.author
        content = text_of(item.find(f"{rss.CONTENT}encoded"))
        entries.append(
            replace(
                entry,
                published=moment,
                author=authors.get(login) or login,
                categories=tuple(categories),
                tags=tuple(tags),
                summary_html=text_of(item.find(f"{excerpt}encoded")),
                content_html=content,
                draft=status in DRAFT_STATUSES,
                lang=lang,
                slug=unquote(text_of(item.find(f"{wp}post_name")) or "") or None,
                notes=tuple(notes),
                wordpress=True,
            )
        )
    return Feed(
        format="WordPress WXR",
        title=text_of(channel.find("title")) or "",
        link=text_of(channel.find("link")),
        lang=text_of(channel.find("language")),
        entries=tuple(entries),
        skipped=tuple(skipped),
    )


def _namespace(root: etree._Element) -> str:
    for namespace in root.nsmap.values():
        if namespace and namespace.startswith(WXR_NS_PREFIX) and not namespace.endswith(EXCERPT_PREFIX):
            return namespace
    raise ImportFailed("not a WordPress export: no wp: namespace")  # pragma: no cover - detect() checked
