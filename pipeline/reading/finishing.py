"""Finishing an update: its rendered Markdown sanitized, its links resolved, its image measured.

Runs right after each rendering, in the same worker (see :func:`pipeline.reading.content.read_content`).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from pipeline.caching.fingerprint import update_fingerprint
from pipeline.config.site import Settings
from pipeline.locale.cli import tr
from pipeline.outputs.urls import update_path
from pipeline.reading import imagesize, sanitize
from pipeline.reading.files import version
from pipeline.reading.links import content_path, make_resolver, split_url
from pipeline.reading.markdown_render import Rendered, cache_key
from pipeline.reading.model import Finished, Image, LinkTargets, Lookup, Problem, Source, Update

SUMMARY_LIMIT = 300


def finish_update(source: Source, rendered: Rendered, settings: Settings, targets: LinkTargets) -> Finished:
    """The update made from ``source`` and its rendering, and what it looked up on the way."""
    page_url = settings.url(update_path(source.slug))
    body = source.body or ""
    warnings: list[Problem] = []
    lookups: list[Lookup] = []

    def on_missing(path: str) -> None:
        offset = next((i for i, line in enumerate(body.split("\n")) if path in line), 0)
        line = source.body_line + offset
        warnings.append(Problem(source.rel, line, tr("link to a missing file: {path}", path=path), "warning"))

    resolved: list[str | None] = []  # every answer, in order: part of the fingerprint
    resolve = make_resolver(source.rel, page_url, settings, targets, on_missing, lookups, resolved)
    html = sanitize.clean_html(rendered.html, resolve, rendered.vouched)
    toc = sanitize.clean_html(rendered.toc_html, resolve, rendered.vouched) if rendered.toc_html else ""
    summary = source.summary or sanitize.summary_text(html, SUMMARY_LIMIT)
    image = None
    image_size: tuple[str, int] | None = None
    if source.image:
        if split_url(source.image).scheme in ("http", "https"):
            image = Image(url=source.image, alt=source.image_alt or "")
        else:
            rel = content_path(source.rel, source.image)
            url, length, media_type, width, height = _asset_facts(rel, targets.assets[rel], settings)
            image_size = (rel, length)
            image = Image(
                url=url,
                alt=source.image_alt or "",
                length=length,
                media_type=media_type,
                width=width,
                height=height,
            )
    shown = {
        "id": source.id,
        "slug": source.slug,
        "title": source.title,
        "date": source.date,
        "updated": source.updated,
        "lang": source.lang,
        "targets": source.targets,
        "tags": source.tags,
        "author": source.author,
        "summary": summary,
        "image": image,
        "source": source.rel,
        "url": page_url,
    }
    feed_html = sanitize.stable_html(html, body)
    # Made from the body's key, the context and the links' answers instead of the three HTML texts
    # (pipeline.caching.fingerprint.update_fingerprint says why that is the same key).
    fingerprint = update_fingerprint(
        settings.context_digest,
        rendered.body_key or cache_key(body),
        resolved,
        (len(html), len(toc), len(feed_html), rendered.heading_count),
        tuple(shown.values()),  # in the fixed order of the dict above
    )
    update = Update(**shown, html=html, toc_html=toc, feed_html=feed_html, fingerprint=fingerprint)
    return Finished(
        update=update, lookups=tuple(dict.fromkeys(lookups)), image_size=image_size, warnings=tuple(warnings)
    )


# An asset's facts by its path and version (pipeline.reading.files.version's fields): most updates
# show one of a few images, and each was opened and its header read again for every one of them
# (a tenth of finishing an update). Bounded; a changed file has another version, so another key.
_FACTS_LIMIT = 4096
_facts: dict[tuple[str, Path, str, str], tuple[str, int, str, int | None, int | None]] = {}


def _asset_facts(rel: str, path: Path, settings: Settings) -> tuple[str, int, str, int | None, int | None]:
    """(URL, bytes, media type, width, height) of the image ``rel`` at ``path``, as it is now."""
    st = path.stat()
    key = (rel, path, settings.base_url, version(st))
    facts = _facts.get(key)
    if facts is None:
        width, height = imagesize.image_size(path) or (None, None)
        media_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        facts = (settings.url(quote(rel, safe="/")), st.st_size, media_type, width, height)
        if len(_facts) >= _FACTS_LIMIT:
            _facts.clear()
        _facts[key] = facts
    return facts
