"""Partner snippets: static JSON for other sites, its JSON Schema, and a tiny embed script.

``build(updates, settings)`` is a pure builder like the others in ``pipeline.build.BUILDERS``:
it writes ``snippets/latest.json``, one file per target, group and (when there are several)
language, ``snippets/schema.json`` (+ the versioned copy), ``snippets/embed.js`` and a demo page.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.content import Update
from pipeline.settings import Settings
from pipeline.snippets.documents import (
    SCHEMA_MAJOR,
    SCHEMA_VERSION,
    encode,
    schema_path,
    scopes,
    snippet_document,
)
from pipeline.snippets.embed import demo_page, embed_script
from pipeline.snippets.schema import schema_document

__all__ = ["SCHEMA_MAJOR", "SCHEMA_VERSION", "build"]


def build(updates: Sequence[Update], settings: Settings) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    all_scopes = scopes(updates, settings)
    for scope in all_scopes:
        files[scope.path] = encode(snippet_document(scope, updates, settings))
    schema = encode(schema_document(settings))
    files["snippets/schema.json"] = schema
    files[schema_path()] = schema
    files["snippets/embed.js"] = embed_script()
    files["snippets/demo.html"] = demo_page(updates, settings, all_scopes)
    return files
