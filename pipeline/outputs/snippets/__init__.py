"""Partner snippets: static JSON for other sites, its JSON Schema, and a tiny embed script.

``build(updates, settings)`` is a pure builder like the others in ``pipeline.publishing.site_build.builders()``:
it writes ``snippets/latest.json``, one file per target, group and (when there are several)
language, ``snippets/schema.json`` (+ the versioned copy), ``snippets/embed.js`` and a demo page.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import islice
from typing import Any

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest
from pipeline.config.site import Settings
from pipeline.outputs.snippets.documents import (
    SCHEMA_MAJOR,
    SCHEMA_VERSION,
    Scope,
    encode,
    schema_path,
    scopes,
    snippet_document,
)
from pipeline.outputs.snippets.embed import EMBED_SOURCE, demo_inputs, demo_page, embed_script
from pipeline.outputs.snippets.schema import schema_document
from pipeline.reading.model import Update

__all__ = ["SCHEMA_MAJOR", "SCHEMA_VERSION", "build"]


def build(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    files: dict[str, Output] = {}
    context = settings.context_digest
    all_scopes = scopes(updates, settings)
    items: dict[str, dict[str, Any]] = {}  # each update's item, shared by the snippets showing it
    for scope in all_scopes:
        chosen = [u.fingerprint for u in islice(filter(scope.accepts, updates), settings.snippet_items)]
        inputs = (
            scope.path,
            scope.kind,
            scope.title,
            scope.lang,
            scope.page_path,
            scope.feed_prefix,
            scope.extra,
        )
        files[scope.path] = Deferred(
            digest(context, "snippet", inputs, chosen),
            partial(_snippet_file, scope, updates, settings, items),
        )
    # The files below show no update (the demo page: which languages and which target it
    # shows): deferred like the rest, so an edit build neither renders nor compares them.
    for path in ("snippets/schema.json", schema_path()):
        files[path] = Deferred(digest(context, path), partial(_schema_file, settings))
    # The script's source is not under the settings' templates folder: its bytes are in its key.
    source = EMBED_SOURCE.read_bytes()
    files["snippets/embed.js"] = Deferred(
        digest(context, "snippets/embed.js", source), partial(embed_script, source)
    )
    shown = demo_inputs(updates, settings, all_scopes)
    files["snippets/demo.html"] = Deferred(
        digest(context, "snippets/demo.html", shown), partial(demo_page, settings, shown)
    )
    return files


def _schema_file(settings: Settings) -> bytes:
    return encode(schema_document(settings))


def _snippet_file(
    scope: Scope, updates: Sequence[Update], settings: Settings, items: dict[str, dict[str, Any]]
) -> bytes:
    return encode(snippet_document(scope, updates, settings, items))
