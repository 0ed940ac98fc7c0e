"""JSON Feed 1.1 documents (https://jsonfeed.org/version/1.1) with the standard ``json`` module.

Keys are sorted and the layout fixed, so the same page gives the same bytes. ``<``, ``>`` and
``&`` are written as ``\\u003c``-style escapes: the same JSON value, but no raw markup in the file
(safe to inline in a ``<script>`` block, and nothing for a careless partner page to execute).
Targets travel as tags (their ids) and, with names and the taxonomy's scheme URL, in the
``_goal17`` extension object (JSON Feed reserves ``_``-prefixed keys for extensions).
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.content import Update
from pipeline.dates import rfc3339
from pipeline.feeds.model import FAVICON_PATH, ICON_PATH, JSON_FILE, FeedPage, categories
from pipeline.sanitize import clean_text
from pipeline.settings import Settings

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
        "items": [_item(update) for update in page.entries],
    }
    if page.prev_archive:
        # JSON Feed pagination: next_url is "the next n items", i.e. the next older page.
        feed["next_url"] = settings.url(page.prev_archive + JSON_FILE)
    if settings.websub_hub and not page.is_archive:
        feed["hubs"] = [{"type": "WebSub", "url": settings.websub_hub}]
    return dumps(feed)


def _item(update: Update) -> dict[str, Any]:
    cats = categories(update)
    item: dict[str, Any] = {
        "id": update.id,
        "url": update.url,
        "title": clean_text(update.title),
        "summary": clean_text(update.summary) or clean_text(update.title),
        "content_html": update.feed_html,
        "date_published": rfc3339(update.date),
        "date_modified": rfc3339(update.updated),
        "language": update.lang,
        "tags": list(dict.fromkeys(cat.term for cat in cats)),
        EXTENSION: {
            "targets": [
                {"id": cat.term, "title": cat.label, "scheme": cat.scheme} for cat in cats if cat.scheme
            ],
        },
    }
    if update.author:
        item["authors"] = [{"name": clean_text(update.author)}]
    if update.image is not None:
        item["image"] = update.image.url
    return item


_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def dumps(document: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, markup characters escaped.

    One top-level member per line, and one element per line inside a top-level array (each feed
    item on a line of its own); anything deeper is compact. Readable enough to diff, and written
    by json's C encoder: an indented layout forces the pure-Python encoder, about an eighth of
    the time a JSON feed took.
    """
    members = []
    for key in sorted(document):
        value = document[key]
        if isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(_ENCODE(element) for element in value) + "\n  ]"
        else:
            text = _ENCODE(value)
        members.append(f"  {_ENCODE(key)}: {text}")
    text = "{\n" + ",\n".join(members) + "\n}" if members else "{}"
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode("utf-8")
