"""Builder for the HTML pages: one per update, and paginated listings for the site, each target
and each area (``groups/<id>/``), plus ``404.html``. Listing rules: docs/architecture.md, "Pages".

Pure: ``build(updates, settings)`` returns ``{relative path: bytes}`` and reads only templates.
In-site links are relative (:mod:`.links`); what every page repeats is rendered once per
variant (:mod:`.layout`), an update page's layout around its blocks once per language and depth
(:mod:`.frames`), and each listing row once (:mod:`.listing`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from markupsafe import Markup

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest, quick_digest
from pipeline.config.site import TEMPLATES_DIR, Settings
from pipeline.outputs.feeds.icons import png_icon, static_icons
from pipeline.outputs.pages.frames import Frames
from pipeline.outputs.pages.layout import Layout, cached_display_date, feed_links, subscribe_url
from pipeline.outputs.pages.links import in_site, relative_html, relative_root
from pipeline.outputs.pages.listing import Listings, ListPage, paginate
from pipeline.reading.model import Update

__all__ = ["ListPage", "build", "favicon_ico", "feed_links", "paginate", "relative_root", "subscribe_url"]


def build(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    """Every page, deferred: a page is rendered only when the digest of its inputs changed."""
    env = settings.env
    base = settings.base_url
    context = settings.context_digest
    lang = settings.language
    helpers = {
        "tz": settings.tz,
        "display_date": cached_display_date,
        "in_site": lambda url, root: in_site(url, base, root),
    }
    # One Layout per language: its macros translate into the `lang` of their module's context.
    layouts: dict[str, Layout] = {}

    def layout(code: str) -> Layout:
        if code not in layouts:
            layouts[code] = Layout(settings, code, helpers)
        return layouts[code]

    common = {**helpers, "settings": settings, "site_lang": lang, "subscribe_url": subscribe_url(settings)}
    update_tpl = env.get_template("pages/update.html")
    frames = Frames(update_tpl)  # the layout around the blocks, rendered once per language and depth
    site_feeds = ""  # the site feeds are named by their format alone (RSS, Atom, JSON Feed)

    # The template's globals and what every page shares, in one dict that each page copies and
    # completes: what Template.render builds per page (the globals copied out of their ChainMap,
    # then the page's values), without rebuilding the shared part 10,000 times.
    shared = {**update_tpl.globals, **common, "feed_title": site_feeds}

    def update_page(update: Update) -> bytes:
        chrome = layout(update.lang)
        root = relative_root(update.path)
        values = {
            **shared,
            "_": chrome.gettext,
            "chrome": chrome,
            "badges": chrome.badges,
            "update": update,
            "lang": update.lang,
            "canonical": update.url,
            "feeds": feed_links(root),
            "root": root,
            "body": as_markup(relative_html(update.html, base, update.path)),
            "toc": as_markup(relative_html(update.toc_html, base, update.path)),
        }
        return frames.render(values).encode("utf-8")

    files: dict[str, Output] = {}
    key_of = page_keys(digest(context, "update page"))  # the context once, not once per page
    for update in updates:
        files[f"{update.path}index.html"] = Deferred(key_of(update.fingerprint), partial(update_page, update))

    site_layout = layout(lang)
    listing_context = {**common, "_": site_layout.gettext, "chrome": site_layout}
    files.update(Listings(settings, site_layout, listing_context).describe(updates))
    not_found = env.get_template("pages/404.html").render(
        **common,
        _=site_layout.gettext,
        chrome=site_layout,
        lang=lang,
        canonical="",
        feeds=feed_links(base),
        feed_title=site_feeds,
        root=base,
    )
    files["404.html"] = not_found.encode("utf-8")
    files["static/style.css"] = (env.loader.get_source(env, "static/style.css")[0]).encode("utf-8")
    files.update(static_icons(settings.templates_dir))  # favicon, apple-touch-icon, mail brand
    # Browsers ask for /favicon.ico on pages that name no icon (the newsletter's web version, the
    # service's pages): without it every such page logs a 404 in the console.
    files["favicon.ico"] = Deferred(
        digest(context, "favicon.ico"), partial(favicon_ico, templates_dir=settings.templates_dir)
    )
    return files


def as_markup(html: str) -> Markup:
    """``Markup(html)``: for an exact ``str`` (what :func:`relative_html` returns) the same value
    made by ``str.__new__``, without Markup's Python constructor (twice per update page)."""
    return _new_str(Markup, html) if type(html) is str else Markup(html)


_new_str = str.__new__


def page_keys(prefix: str) -> Callable[[str], str]:
    """An update page's key from the update's fingerprint, for pages whose context is ``prefix``.

    Both are 128-bit BLAKE2b digests, so the key is their XOR: for one context that maps distinct
    fingerprints to distinct keys, and two contexts' keys meet only where one digest equals
    another XOR a third, which is no likelier than a collision. It is what hashing the two
    again gave (``quick_digest``), at a tenth of the cost: 10,000 keys in every build, an edit
    build's included. A fingerprint that is not such a digest is hashed with the prefix.
    """
    context = int(prefix, 16)

    def key(fingerprint: str) -> str:
        if len(fingerprint) == 32 and not fingerprint.strip("0123456789abcdef"):  # lowercase hex only
            return f"{context ^ int(fingerprint, 16):032x}"
        return quick_digest(prefix, fingerprint)

    return key


def favicon_ico(size: int = 64, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """The site's icon as ``favicon.ico``: an ICO file holding one PNG image (Windows Vista+)."""
    png = png_icon(size, templates_dir)
    header = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 = icon, one image
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png
