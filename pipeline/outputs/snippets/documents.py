"""Snippet files: a titled, linked list of the newest items for one scope (all, a target, a group
or a language), serialized so that the same updates always give the same bytes.

Stable bytes matter because partners poll these files: an ETag computed from the content only
changes when an item does, never because the build ran again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from typing import Any

from pipeline.config.site import Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale import translations
from pipeline.outputs import urls
from pipeline.outputs.snippets.items import snippet_item, target_refs
from pipeline.reading.dates import rfc3339
from pipeline.reading.model import Update

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.0"
# The `updated` of a snippet with no items: a fixed, documented value, so empty files never change.
EMPTY_UPDATED = rfc3339(datetime(1970, 1, 1, tzinfo=UTC))


def schema_path(major: int = SCHEMA_MAJOR) -> str:
    return f"snippets/v{major}/schema.json"


@dataclass(frozen=True)
class Scope:
    """What one snippet file lists: its path, kind, heading and which updates belong in it."""

    path: str  # relative to the output folder, e.g. "snippets/targets/17.9.json"
    kind: str  # latest | target | group | lang
    title: str
    lang: str
    page_path: str  # the matching HTML page, relative to the site root
    feed_prefix: str  # where the matching feeds live, e.g. "feeds/targets/17.9/"
    accepts: Callable[[Update], bool]
    extra: dict[str, Any]


def scopes(updates: Sequence[Update], settings: Settings) -> list[Scope]:
    """Every snippet file the build writes: latest, all 19 targets, all groups, languages."""
    taxonomy = load_taxonomy()
    site_lang = settings.language
    _ = translations(site_lang).gettext
    result = [
        Scope("snippets/latest.json", "latest", settings.title, site_lang, "", urls.FEEDS, lambda u: True, {})
    ]
    for target in taxonomy.targets:
        result.append(
            Scope(
                path=f"snippets/targets/{target.id}.json",
                kind="target",
                title=_("Delmål {id}: {title}").format(id=target.id, title=target.title(site_lang)),
                lang=site_lang,
                page_path=urls.target_path(target.id),
                feed_prefix=urls.feed_folder(urls.target_path(target.id)),
                accepts=lambda u, tid=target.id: tid in u.targets,
                extra={"target": target_refs([target.id], site_lang)[0]},
            )
        )
    for group in taxonomy.groups:
        members = frozenset(group.targets)
        result.append(
            Scope(
                path=f"snippets/groups/{group.id}.json",
                kind="group",
                title=_("Mål 17: {name}").format(name=group.title(site_lang)),
                lang=site_lang,
                page_path="",
                feed_prefix=urls.feed_folder(urls.group_path(group.id)),
                accepts=lambda u, members=members: not members.isdisjoint(u.targets),
                extra={
                    "group": {
                        "id": group.id,
                        "name": group.title(site_lang),
                        "targets": target_refs(list(group.targets), site_lang),
                    }
                },
            )
        )
    languages = sorted(set(map(attrgetter("lang"), updates)))  # at C speed: 10,000 updates
    if len(languages) > 1:
        for lang in languages:
            result.append(
                Scope(
                    path=f"snippets/lang/{lang}/latest.json",
                    kind="lang",
                    title=translations(lang).gettext("Mål 17: {name}").format(name=taxonomy.goal_title(lang)),
                    lang=lang,
                    page_path="",
                    feed_prefix=urls.feed_folder(urls.language_path(lang)),
                    accepts=lambda u, lang=lang: u.lang == lang,
                    extra={},
                )
            )
    return result


def snippet_document(
    scope: Scope,
    updates: Sequence[Update],
    settings: Settings,
    items: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The snippet for ``scope``: the newest ``settings.snippet_items`` updates it accepts.

    ``updates`` come newest first (``content.sort_key``), so the order is already stable, and
    the scan stops at the last item it needs (a new update is in six snippet files: each used to
    test all 10,000 updates). ``items``: the item of each update already made for another
    snippet of the same build and settings, by fingerprint (a digest of every field of the
    update, so equal fingerprints give equal items); an update is in up to eight snippets, and
    its item (nh3 cleaning its excerpt) is most of a snippet's cost. Items are filled in as they
    are made, and only read: a document's own keys are set on the document.
    """
    chosen = list(islice(filter(scope.accepts, updates), settings.snippet_items))
    newest = max((u.updated for u in chosen), default=None)  # `updated` is never before `date`
    prefix = scope.feed_prefix
    document: dict[str, Any] = {
        "$schema": settings.url(schema_path()),
        "version": SCHEMA_VERSION,
        "kind": scope.kind,
        "title": scope.title,
        "lang": scope.lang,
        "url": settings.url(scope.path),
        "home_url": settings.url(),
        "page_url": settings.url(scope.page_path),
        "feeds": {
            "rss": settings.url(prefix + "rss.xml"),
            "atom": settings.url(prefix + "atom.xml"),
            "json": settings.url(prefix + "feed.json"),
        },
        "updated": rfc3339(newest) if newest is not None else EMPTY_UPDATED,
        "items": [_item(u, settings, items) for u in chosen],
    }
    document.update(scope.extra)
    return document


def _item(update: Update, settings: Settings, items: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    if items is None or not update.fingerprint:  # "": an update made without one (tests)
        return snippet_item(update, settings)
    item = items.get(update.fingerprint)
    if item is None:
        item = items[update.fingerprint] = snippet_item(update, settings)
    return item


def encode(document: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, fixed indentation, UTF-8, one trailing newline."""
    try:
        text = _layout(document, "\n")
    except _Unusual:
        text = _dumps(document)
    return (text + "\n").encode("utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "))


class _Unusual(Exception):
    """A dict with a key that is not a string: laid out by :func:`json.dumps` itself."""


_STRING = json.encoder.encode_basestring  # what the encoder writes a string as (C, unescaped non-ASCII)


def _layout(value: Any, indent: str) -> str:
    """``_dumps(value)`` for a value at ``indent`` (a line break and the spaces of its level).

    With ``indent`` set, :func:`json.dumps` takes the pure-Python encoder, a generator per
    container and each piece of text passed up through all of them: a sixth of a snippet
    file's cost, and the snippet files a twentieth of the publish pool's. The same layout, with
    each container joined at once and every scalar written by the encoder's own functions (a
    scalar's text is the same at any level). Containers are recognised as that encoder does
    (``isinstance``), so subclasses are laid out the same way; strings, the most of a
    document, are written where they stand.
    """
    if isinstance(value, str):
        return _STRING(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = indent + "  "
        texts = [_STRING(item) if type(item) is str else _layout(item, inner) for item in value]
        return "[" + inner + ("," + inner).join(texts) + indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        members = []
        for key, item in sorted(value.items()):
            if not isinstance(key, str):
                raise _Unusual
            members.append(
                _STRING(key) + ": " + (_STRING(item) if type(item) is str else _layout(item, inner))
            )
        return "{" + inner + ("," + inner).join(members) + indent + "}"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return _dumps(value)
