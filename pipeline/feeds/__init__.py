"""Builder for the feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for every scope, plus discovery files.

``build(updates, settings)`` is pure (no clock, no I/O) and returns ``{relative path: bytes}``:

* ``feeds/{rss.xml,atom.xml,feed.json}`` — all updates (newest ``feed_items``);
* ``feeds/targets/<target>/…`` for all 19 targets, ``feeds/groups/<group>/…`` for the groups,
  ``feeds/lang/<lang>/…`` when updates come in more than one language;
* ``feeds/archive/<n>/…`` — RFC 5005 archive pages of the site-wide feed (:mod:`.archive`);
* ``feeds/index.opml``, ``feeds/index.json`` (:mod:`.discovery`), ``feeds/icon.png``,
  ``feeds/favicon.png``.

See ``docs/feeds.md`` for the format choices and why each one is made.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.content import Update
from pipeline.feeds.archive import feed_pages
from pipeline.feeds.discovery import build_discovery
from pipeline.feeds.icons import png_icon
from pipeline.feeds.jsonfeed import render_json
from pipeline.feeds.model import ATOM_FILE, FAVICON_PATH, ICON_PATH, JSON_FILE, RSS_FILE, scopes
from pipeline.feeds.rss_atom import render_atom, render_rss
from pipeline.settings import Settings


def build(updates: Sequence[Update], settings: Settings) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    pages = [page for scope in scopes(updates, settings) for page in feed_pages(scope, settings)]
    for page in pages:
        files[page.folder + RSS_FILE] = render_rss(page, settings)
        files[page.folder + ATOM_FILE] = render_atom(page, settings)
        files[page.folder + JSON_FILE] = render_json(page, settings)
    files.update(build_discovery(pages, settings))
    files[ICON_PATH] = png_icon(512)
    files[FAVICON_PATH] = png_icon(64)
    return dict(sorted(files.items()))


__all__ = ["build"]
