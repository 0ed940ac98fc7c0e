"""Builder for the feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for every scope, plus discovery files.

``build(updates, settings)`` is pure (no clock, no I/O) and returns ``{relative path: bytes}``:

* ``feeds/{rss.xml,atom.xml,feed.json}`` — all updates (newest ``feed_items``);
* ``feeds/targets/<target>/…`` for all 19 targets, ``feeds/groups/<group>/…`` for the groups,
  ``feeds/lang/<lang>/…`` when updates come in more than one language;
* ``feeds/archive/<n>/{rss.xml,atom.xml}`` — RFC 5005 archive pages of the site-wide feed
  (:mod:`.archive`);
* ``feeds/index.opml``, ``feeds/index.json`` (:mod:`.discovery`), ``feeds/icon.png``,
  ``feeds/favicon.png``.

See ``docs/feeds.md`` for the format choices and why each one is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest, quick_digest
from pipeline.config.site import Settings
from pipeline.outputs.feeds.archive import feed_pages
from pipeline.outputs.feeds.discovery import build_discovery
from pipeline.outputs.feeds.icons import png_icon
from pipeline.outputs.feeds.jsonfeed import render_json
from pipeline.outputs.feeds.model import (
    ATOM_FILE,
    FAVICON_PATH,
    ICON_PATH,
    JSON_FILE,
    RSS_FILE,
    FeedPage,
    scopes,
)
from pipeline.outputs.feeds.rss_atom import render_atom, render_rss
from pipeline.reading.model import Update

RENDERERS = {RSS_FILE: render_rss, ATOM_FILE: render_atom, JSON_FILE: render_json}


def build(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    """Every feed file; each feed document is deferred, made only when one of its inputs changed."""
    files: dict[str, Output] = {}
    context = settings.context_digest
    pages = [page for scope in scopes(updates, settings) for page in feed_pages(scope, settings)]
    for page in pages:
        inputs = page_inputs(page)  # once per page, not once per format
        page.updated  # noqa: B018 (kept on the page while its entries are in the CPU's cache)
        for name in page.formats:
            render = RENDERERS[name]
            files[page.folder + name] = Deferred(
                quick_digest(context, name, inputs), partial(render, page, settings)
            )
    files.update(build_discovery(pages, settings))
    files[ICON_PATH] = Deferred(digest(context, ICON_PATH), partial(png_icon, 512, settings.templates_dir))
    files[FAVICON_PATH] = Deferred(
        digest(context, FAVICON_PATH), partial(png_icon, 64, settings.templates_dir)
    )
    return dict(sorted(files.items()))


def page_inputs(page: FeedPage) -> str:
    """A digest of everything a feed document is made of: its place, its scope's words, its
    entries (by fingerprint: each a digest of every field of its update).

    ``repr`` never holds a NUL and fingerprints are hex, so one NUL-joined text keeps the parts
    apart (:func:`~pipeline.caching.fingerprint.quick_digest`): the 10,000 fingerprints of the
    archive pages are hashed as they are, not through the ``repr`` of a list of them.
    """
    scope = page.scope
    head = (
        page.folder,
        page.archive_number,
        page.prev_archive,
        page.current,
        page.full_content,
        (scope.kind, scope.key, scope.folder, scope.words, scope.language, scope.home_url),
        len(page.entries),
    )
    return quick_digest(repr(head), *[u.fingerprint for u in page.entries])


__all__ = ["build"]
