"""One snippet item: the JSON object a partner site gets for one update.

Partners render these fields on their own pages, often with code we never see, so every field is
either plain text that cannot be mistaken for markup, an http(s) URL, or a tiny HTML excerpt from a
fixed allow-list. Nothing here trusts that the content folder was friendly.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any
from urllib.parse import quote, urlsplit

import nh3

from pipeline.config.site import Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.outputs.pages.layout import cached_display_date
from pipeline.reading.dates import rfc3339
from pipeline.reading.model import Update
from pipeline.reading.sanitize import CLEAN_CONTENT, EXCERPT_TAGS, excerpt_html, plain_text

# "<" followed by one of these starts a tag, comment or declaration in HTML; anywhere else it is text.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# An anchor whose href the sanitizer removed (javascript:, data:, relative): keep only its text.
_ANCHOR_WITHOUT_HREF = re.compile(r'<a(?![^>]*\shref=")[^>]*>(.*?)</a>', re.S)
# The only tags an excerpt may hold, exactly as nh3 writes them after the pass in `excerpt`.
_EXCERPT_TAG = re.compile(r'(<a href="[^"<>]*" rel="noopener">|</?(?:p|a|em|strong|ul|ol|li)>)')
# What may stay unencoded in an excerpt link; everything else (quotes, <, >, spaces) is %-encoded.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~"
_EMPTY_ELEMENT = re.compile(r"<(p|li|ul|ol|em|strong)>\s*</\1>")
_EXCERPT_ATTRIBUTES = {"a": {"href", "rel"}}


def plain(text: str) -> str:
    """Plain text that stays inert even if a partner wrongly inserts it as HTML.

    Tags are stripped until nothing changes (entity-encoded markup such as ``&lt;script&gt;`` turns
    into a tag after one decoding), then any ``<`` that would still open a tag becomes ``‹``.
    """
    current = " ".join(text.split())
    for _ in range(5):
        stripped = plain_text(current)
        if stripped == current:
            break
        current = stripped
    return _TAG_START.sub("\u2039", current)


def http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (never a script or data URL)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def excerpt(clean_html: str) -> str:
    """The allow-listed excerpt (p, a[href], em, strong, ul, ol, li), tightened once more.

    ``pipeline.reading.sanitize.excerpt_html`` picks the blocks; this pass drops attributes nh3 allows by
    default (``title``, ``lang``) and unwraps links whose unsafe URL was removed, so every ``<a>``
    in a snippet has an absolute ``href`` and ``rel="noopener"``. Its text runs get the same
    treatment as ``plain`` (markup quoted as text, e.g. in a code span, is dropped), so the excerpt
    never says more than the summary would.
    """
    first = excerpt_html(clean_html)

    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "a" and attribute == "href":
            if http_url(value) or value.startswith("mailto:"):
                return quote(value.strip(), safe=_URL_SAFE)
            return None
        if element == "a" and attribute == "rel":
            return "noopener"
        return None

    tight = nh3.clean(
        first,
        tags=EXCERPT_TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=_EXCERPT_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    )
    parts = _EXCERPT_TAG.split(_ANCHOR_WITHOUT_HREF.sub(r"\1", tight))
    # Even-numbered parts are text: run each through `plain` like every other text field.
    text = "".join(part if index % 2 else _plain_segment(part) for index, part in enumerate(parts))
    # A paragraph that only held an image (or removed markup) would leave an empty box behind.
    while (emptied := _EMPTY_ELEMENT.sub("", text)) != text:
        text = emptied
    return "\n".join(line for line in text.split("\n") if line.strip())


def _plain_segment(escaped: str) -> str:
    """One text run of the excerpt, as plain text and escaped again; edge spaces kept."""
    if not escaped.strip():
        return escaped
    text = plain(html_lib.unescape(escaped))
    lead = " " if escaped[0].isspace() else ""
    trail = " " if escaped[-1].isspace() else ""
    return lead + html_lib.escape(text, quote=False) + trail if text else lead or trail


def target_refs(target_ids: tuple[str, ...] | list[str], lang: str) -> list[dict[str, str]]:
    taxonomy = load_taxonomy()
    return [{"id": tid, "name": taxonomy.target(tid).title(lang)} for tid in target_ids]


def snippet_item(update: Update, settings: Settings) -> dict[str, Any]:
    """The JSON object for one update (keys are sorted when the snippet is serialized)."""
    item: dict[str, Any] = {
        "id": update.id,
        "title": plain(update.title),
        "url": update.url,
        "date": rfc3339(update.date),
        "updated": rfc3339(update.updated),
        "display_date": cached_display_date(update.date, update.lang, settings.tz),  # = display_date
        "summary": plain(update.summary),
        "excerpt_html": excerpt(update.html),
        "targets": target_refs(update.targets, update.lang),
        "lang": update.lang,
    }
    if update.image is not None:
        image_url = http_url(update.image.url)
        if image_url is not None:
            item["image"] = {"url": image_url, "alt": plain(update.image.alt)}
    return item
