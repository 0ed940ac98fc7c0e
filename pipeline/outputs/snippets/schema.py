"""The JSON Schema (draft 2020-12) that describes every snippet file.

Partners validate against it and code generators read it, so it is strict: no unknown keys, URLs
must be absolute http(s), plain-text fields may not contain anything that opens an HTML tag, and
the excerpt may only hold the allow-listed tags in the exact form our sanitizer writes them.

Versioning: a snippet's ``version`` is ``MAJOR.MINOR``. Adding an optional field bumps MINOR
and keeps the schema's path; removing, renaming or retyping a field bumps MAJOR, publishes the
new schema at ``snippets/v<MAJOR>/schema.json`` and keeps the previous major's schema (and its
files) at their ``v<old>`` paths for at least one release. ``snippets/schema.json`` is always a
copy of the current major's schema.
"""

from __future__ import annotations

from typing import Any

from pipeline.config.site import Settings
from pipeline.outputs.snippets.documents import SCHEMA_MAJOR, schema_path

HTTP_URL = {"type": "string", "format": "uri", "pattern": r"^https?://[^\s<>\"]+$"}
DATE_TIME = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$",
}
# Text that opens no HTML tag, comment or declaration, whatever a consumer does with it.
PLAIN_TEXT = {"type": "string", "not": {"pattern": r"<[A-Za-z/!?]"}}
# Any "<" that does not start one of the allowed tags, written exactly as the sanitizer writes them.
EXCERPT_TAG_OUTSIDE_ALLOW_LIST = (
    r"<(?!(?:/?(?:p|em|strong|ul|ol|li)|/a|a href=\"(?:https?://|mailto:)[^\"<>]*\" rel=\"noopener\")>)"
)
LANG = {"type": "string", "enum": ["sv", "en"]}


def schema_document(settings: Settings) -> dict[str, Any]:
    """The schema for the current major version, with ``$id`` at its versioned URL."""
    target_ref = {
        "type": "object",
        "description": "A goal-17 target: its id (17.1 … 17.19) and its name in the enclosing language.",
        "required": ["id", "name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": r"^17\.(?:[1-9]|1[0-9])$"},
            "name": {**PLAIN_TEXT, "minLength": 1},
        },
    }
    item = {
        "type": "object",
        "description": "One update, newest first within a snippet.",
        "required": [
            "id",
            "title",
            "url",
            "date",
            "updated",
            "display_date",
            "summary",
            "excerpt_html",
            "targets",
            "lang",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {
                "type": "string",
                "minLength": 1,
                "description": "Stable identifier (a URI); never changes when the update is edited or renamed.",
            },
            "title": {**PLAIN_TEXT, "minLength": 1, "description": "Plain text."},
            "url": {**HTTP_URL, "description": "Absolute URL of the update's page."},
            "date": {**DATE_TIME, "description": "Publication time, RFC 3339 with offset."},
            "updated": {**DATE_TIME, "description": "Last substantive change, RFC 3339 with offset."},
            "display_date": {
                **PLAIN_TEXT,
                "minLength": 1,
                "description": "The publication date for readers, in the item's language: '27 november 2026'.",
            },
            "summary": {**PLAIN_TEXT, "description": "Plain text, at most about 300 characters."},
            "excerpt_html": {
                "type": "string",
                "description": "A short HTML excerpt: only p, a[href][rel=noopener], em, strong, ul, ol, li; absolute links.",
                "not": {"pattern": EXCERPT_TAG_OUTSIDE_ALLOW_LIST},
            },
            "targets": {"type": "array", "items": {"$ref": "#/$defs/target"}},
            "image": {
                "type": "object",
                "required": ["url", "alt"],
                "additionalProperties": False,
                "properties": {"url": HTTP_URL, "alt": PLAIN_TEXT},
            },
            "lang": {**LANG, "description": "Language of the item (BCP 47)."},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": settings.url(schema_path()),
        "title": "Goal-17 partner snippet",
        "description": (
            "A list of the newest goal-17 updates for partner sites: all updates, one target, one group "
            "of targets or one language. Version MAJOR.MINOR: a new optional field bumps MINOR; a removed, "
            "renamed or retyped field bumps MAJOR and moves the schema to snippets/v<MAJOR>/schema.json, "
            "while the previous major stays published under its own path for at least one release."
        ),
        "type": "object",
        "required": [
            "$schema",
            "version",
            "kind",
            "title",
            "lang",
            "url",
            "home_url",
            "page_url",
            "feeds",
            "updated",
            "items",
        ],
        "additionalProperties": False,
        "properties": {
            "$schema": {"const": settings.url(schema_path()), "description": "This schema's URL."},
            "version": {"type": "string", "pattern": rf"^{SCHEMA_MAJOR}\.\d+$"},
            "kind": {"enum": ["latest", "target", "group", "lang"]},
            "title": {**PLAIN_TEXT, "minLength": 1},
            "lang": {**LANG, "description": "Language of the snippet's title and names."},
            "url": {**HTTP_URL, "description": "This file's own URL."},
            "home_url": {**HTTP_URL, "description": "The site's front page."},
            "page_url": {**HTTP_URL, "description": "The HTML page listing the same updates."},
            "feeds": {
                "type": "object",
                "description": "Feeds with the same scope, for readers who want every update.",
                "required": ["rss", "atom", "json"],
                "additionalProperties": False,
                "properties": {"rss": HTTP_URL, "atom": HTTP_URL, "json": HTTP_URL},
            },
            "updated": {
                **DATE_TIME,
                "description": "The latest 'updated' time among the items; 1970-01-01T00:00:00+00:00 when empty.",
            },
            "target": {"$ref": "#/$defs/target"},
            "group": {
                "type": "object",
                "required": ["id", "name", "targets"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
                    "name": {**PLAIN_TEXT, "minLength": 1},
                    "targets": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/target"}},
                },
            },
            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
        },
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": "target"}}},
                "then": {"required": ["target"], "not": {"required": ["group"]}},
            },
            {
                "if": {"properties": {"kind": {"const": "group"}}},
                "then": {"required": ["group"], "not": {"required": ["target"]}},
            },
            {
                "if": {"properties": {"kind": {"enum": ["latest", "lang"]}}},
                "then": {"allOf": [{"not": {"required": ["target"]}}, {"not": {"required": ["group"]}}]},
            },
        ],
        "$defs": {"target": target_ref, "item": item},
    }
