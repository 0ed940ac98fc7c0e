"""JSON Feed 1.1 documents (https://jsonfeed.org/version/1.1) with the standard ``json`` module.

Keys are sorted and the layout fixed, so the same page gives the same bytes. Plain-text
fields have ``<``, ``>`` and ``&`` written as ``\\u003c``-style escapes: the same JSON value, but
no raw markup in the file (safe to inline in a ``<script>`` block, and nothing for a careless
partner page to execute). ``content_html`` is sanitized HTML and is written raw except for what
would end a ``<script>`` block (``</`` as ``<\\/``, ``<!--`` as ``\\u003c!--``): escaping its
every tag made content a third longer.
Targets travel as tags (their ids) and, with names and the taxonomy's scheme URL, in the
``_goal17`` extension object (JSON Feed reserves ``_``-prefixed keys for extensions).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pipeline.config.site import Settings
from pipeline.outputs.feeds.model import FAVICON_PATH, ICON_PATH, JSON_FILE, FeedPage, categories
from pipeline.reading.dates import rfc3339
from pipeline.reading.model import Update
from pipeline.reading.sanitize import clean_text

VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION = "_goal17"


def render_json(page: FeedPage, settings: Settings) -> bytes:
    scope = page.scope
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": clean_text(page.title()),
        "description": clean_text(scope.description),
        "home_page_url": scope.home_url,
        "feed_url": settings.url(page.folder + JSON_FILE),
        "icon": settings.url(ICON_PATH),
        "favicon": settings.url(FAVICON_PATH),
        "language": scope.language,
        "authors": [{"name": clean_text(settings.organisation), "url": settings.url()}],
        "items": [_item_text(update, page.full_content) for update in page.entries],
    }
    if page.links_archive(JSON_FILE):
        # JSON Feed pagination: next_url is "the next n items", i.e. the next older page.
        feed["next_url"] = settings.url(page.prev_archive + JSON_FILE)
    if settings.websub_hub and not page.is_archive:
        feed["hubs"] = [{"type": "WebSub", "url": settings.websub_hub}]
    return dumps(feed)


def _item(update: Update, full_content: bool = True) -> dict[str, Any]:
    """One item; on archive pages (no ``full_content``) the summary is its ``content_text`` and
    the item has no image and no ``_goal17`` target names: a history to backfill, kept small."""
    cats = categories(update)
    summary = clean_text(update.summary) or clean_text(update.title)
    item: dict[str, Any] = {
        "id": update.id,
        "url": update.url,
        "title": clean_text(update.title),
        "date_published": rfc3339(update.date),
        "date_modified": rfc3339(update.updated),
        "language": update.lang,
        "tags": list(dict.fromkeys(cat.term for cat in cats)),
    }
    if update.author:
        item["authors"] = [{"name": clean_text(update.author)}]
    if not full_content:
        item["content_text"] = summary  # JSON Feed: an item has content_html or content_text
        return item
    item["summary"] = summary
    item["content_html"] = update.feed_html
    item[EXTENSION] = {
        "targets": [{"id": cat.term, "title": cat.label, "scheme": cat.scheme} for cat in cats if cat.scheme],
    }
    if update.image is not None:
        item["image"] = update.image.url
    return item


_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


class _ItemText(str):
    """An item already written as its line of the document (encoded and escaped)."""


# A site has up to 30 JSON Feed documents (site, languages, areas, targets), and a new update
# sits in the site feed, its language's and those of its areas and targets: up to eight
# documents carry the same item. Each item is written once per build process and its text
# reused; the key is the update itself (a frozen dataclass, equal only when every field is), so
# an edited update is written afresh. 4,096 items cover every subscription document of a site.
@lru_cache(maxsize=4096)
def _item_text(update: Update, full_content: bool) -> _ItemText:
    return _ItemText(_escaped_item(_item(update, full_content)))


_HTML_KEY = "content_html"
_HTML_START = '"content_html":"'  # where a match of _HTML_MEMBER starts


def _escaped_item(item: dict[str, Any]) -> str:
    """``_escape(_ENCODE(item))`` for a dict of string keys, without the regular expression.

    :data:`_HTML_MEMBER` walks the item's ``content_html`` string one character at a time (two
    alternatives per character): most of a full item's cost, and a ninth of a JSON feed's. The
    encoder writes a dict with sorted keys as ``{`` + its members joined by ``,`` + ``}``, so
    the members before the body's key, the body's member and those after it are encoded
    apart: the markup escapes for the first and last, the script-block ones for the body.
    Where the others hold what the pattern matches (a nested ``content_html``, a key ending in
    it), the whole text goes through :func:`_escape`.
    """
    html = item.get(_HTML_KEY)
    if type(html) is not str:
        return _escape(_ENCODE(item))
    before = _ENCODE({key: value for key, value in item.items() if key < _HTML_KEY})[1:-1]
    after = _ENCODE({key: value for key, value in item.items() if key > _HTML_KEY})[1:-1]
    if _HTML_START in before or _HTML_START in after:
        return _escape(_ENCODE(item))
    members = [_escape_text(before)] if before else []
    members.append(_HTML_START[:-1] + _script_escape(_ENCODE(html)))
    if after:
        members.append(_escape_text(after))
    return "{" + ",".join(members) + "}"


def dumps(document: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, markup characters escaped (see module docstring).

    One top-level member per line, and one element per line inside a top-level array (each feed
    item on a line of its own); anything deeper is compact. Readable enough to diff, and written
    by json's C encoder: an indented layout forces the pure-Python encoder, about an eighth of
    the time a JSON feed took.

    Elements that are :class:`_ItemText` are written as they are: escaping is the same applied to
    the whole document or to each item alone, since a ``content_html`` string never spans items.
    """
    members = []
    for key in sorted(document):
        value = document[key]
        if isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(_element(element) for element in value) + "\n  ]"
        else:
            text = _escape(_ENCODE(value))
        members.append(f"  {_escape(_ENCODE(key))}: {text}")
    text = "{\n" + ",\n".join(members) + "\n}" if members else "{}"
    return (text + "\n").encode("utf-8")


def _element(value: Any) -> str:
    return value if isinstance(value, _ItemText) else _escape(_ENCODE(value))


# A JSON string holding sanitized HTML, as the encoder writes it (escapes are backslash pairs).
_HTML_MEMBER = re.compile(r'"content_html":"(?:[^"\\]|\\.)*"')


def _escape(text: str) -> str:
    """Markup characters escaped, in ``content_html`` only those that could end a script block."""
    out = []
    position = 0
    for match in _HTML_MEMBER.finditer(text):
        out.append(_escape_text(text[position : match.start()]))
        out.append(_script_escape(match.group(0)))
        position = match.end()
    out.append(_escape_text(text[position:]))
    return "".join(out)


def _script_escape(text: str) -> str:
    """What could end a ``<script>`` block, escaped (``content_html``'s only escapes)."""
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _escape_text(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
