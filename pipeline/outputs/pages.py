"""Builder for the HTML pages: one per update, and paginated listings for the site, each target
and each area (``groups/<id>/``), plus ``404.html``. Listing rules: docs/architecture.md, "Pages".

Pure: ``build(updates, settings)`` returns ``{relative path: bytes}`` and reads only templates.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import urlencode

from markupsafe import Markup

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest
from pipeline.config.site import TEMPLATES_DIR, Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale import translations
from pipeline.outputs import urls
from pipeline.outputs.feeds.icons import png_icon, static_icons
from pipeline.outputs.labels import format_number
from pipeline.reading.model import Update


def feed_links(settings: Settings, prefix: str = urls.FEEDS) -> list[dict[str, str]]:
    """Autodiscovery links (rel=alternate) for the feeds under ``prefix``."""
    return [
        {"type": "application/rss+xml", "href": settings.url(prefix + "rss.xml"), "format": "RSS"},
        {"type": "application/atom+xml", "href": settings.url(prefix + "atom.xml"), "format": "Atom"},
        {"type": "application/feed+json", "href": settings.url(prefix + "feed.json"), "format": "JSON Feed"},
    ]


@dataclass(frozen=True)
class ListPage:
    path: str
    items: list[Update]  # newest first
    number: int | None  # the page's number in its URL (counted from the oldest); None: front page
    newer: str | None  # path of the page with the next newer items
    older: str | None
    position: int = 1  # as readers count: the front page is 1, the page after it 2, …
    count: int = 1  # pages in the listing, the front page included


def paginate(items: Sequence[Update], size: int, base_path: str) -> list[ListPage]:
    """The front page (the newest ``size`` items) and archive pages of the rest, never overlapping.

    Every item is on exactly one page, and each page holds the items just older than the page
    before it. Archive pages are numbered from the oldest (``page/1/`` holds the oldest
    ``size``), like RFC 5005 feed archives: adding an update pushes the front page's oldest item
    onto the newest archive page, so full archive pages keep their items and their URLs for
    ever, and only the front page and the newest archive page get new items. The newest archive
    page holds between 1 and ``size`` items. Readers count the other way ("Sida 2 av 5" is the
    page after the front page), so that count, and the links, are re-rendered on every page
    once per ``size`` updates, when a new archive page appears.
    """
    front = list(items[:size])
    archived = list(reversed(items[size:]))  # oldest first
    count = -(-len(archived) // size)
    total = count + 1

    def path(number: int) -> str:
        return urls.listing_page_path(base_path, number)

    pages = [ListPage(base_path, front, None, None, path(count) if count else None, 1, total)]
    for number in range(count, 0, -1):  # newest archive page first: position 2, 3, …
        chunk = list(reversed(archived[(number - 1) * size : number * size]))
        newer = path(number + 1) if number < count else base_path
        older = path(number - 1) if number > 1 else None
        pages.append(ListPage(path(number), chunk, number, newer, older, total - number + 1, total))
    return pages


def relative_root(page_path: str) -> str:
    """``../`` once per folder level of ``page_path``: the site root, relative to that page.

    Only the stylesheet is linked relatively, so a page opened from disk (``outputs/index.html``)
    is styled too; every other link stays absolute against the base URL (feeds, mail and
    partner sites copy them out of context).
    """
    return "../" * page_path.count("/")


def subscribe_url(settings: Settings, target_ids: Sequence[str] = ()) -> str:
    """The service's sign-up form, with these targets ticked (``GET /subscribe?targets=…``)."""

    query = urlencode([("targets", t) for t in target_ids])
    return settings.web.url("subscribe") + (f"?{query}" if query else "")


def build(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    """Every page, deferred: a page is rendered only when the digest of its inputs changed."""
    env = settings.env
    taxonomy = load_taxonomy()
    context = settings.context_digest
    lang = settings.language
    _ = translations(lang).gettext
    files: dict[str, Output] = {}
    # Badge lists repeat: each update's appears on its own page and in every listing it is in.
    # The macro stays in the template; its output is remembered per (targets, language).
    # One module per language: the macro's _() translates into the `lang` of its module's context.
    item_macros = lru_cache(maxsize=None)(
        lambda code: env.get_template("pages/_item.html").make_module({"settings": settings, "lang": code})
    )
    badges = lru_cache(maxsize=4096)(lambda ids, lang: Markup(item_macros(lang).badges(list(ids), lang)))
    common = {
        "settings": settings,
        "site_lang": lang,
        "badges": lambda ids, lang: badges(tuple(ids), lang),
        "subscribe_url": subscribe_url(settings),
        "archive_url": settings.url(urls.NEWSLETTERS),
        "opml_url": settings.url(urls.OPML),
        "tz": settings.tz,
    }
    update_tpl = env.get_template("pages/update.html")

    def update_page(update: Update) -> bytes:
        html = update_tpl.render(
            **common,
            update=update,
            lang=update.lang,
            canonical=update.url,
            feeds=feed_links(settings),
            root=relative_root(update.path),
        )
        return html.encode("utf-8")

    for update in updates:
        files[f"{update.path}index.html"] = Deferred(
            digest(context, "update page", update.fingerprint), partial(update_page, update)
        )

    list_tpl = env.get_template("pages/list.html")

    def listing(items: Sequence[Update], base_path: str, kind: str, key: str = "") -> None:
        for page in paginate(items, settings.page_size, base_path):
            digest_key = digest(
                context,
                "list page",
                kind,
                key,
                page.path,
                page.number,
                page.position,
                page.count,
                page.newer,
                page.older,
                [u.fingerprint for u in page.items],
            )
            files[f"{page.path}index.html"] = Deferred(digest_key, partial(list_page, page, kind, key))

    def list_page(page: ListPage, kind: str, key: str) -> bytes:
        target = taxonomy.target(key) if kind == "target" else None
        group = taxonomy.group(key) if kind == "group" else taxonomy.group(target.group) if target else None
        if kind == "site":
            heading = _("Senaste nytt") if page.number is None else _("Äldre nyheter")
            feed_prefix, follow_ids, follow_name = urls.FEEDS, (), ""
        elif kind == "group":
            heading = group.title(lang)
            feed_prefix, follow_ids = urls.feed_folder(urls.group_path(group.id)), group.targets
            follow_name = _("Följ området {name}").format(name=group.title(lang))
        else:
            heading = _("Delmål {id}: {title}").format(id=target.id, title=target.title(lang))
            feed_prefix, follow_ids = urls.feed_folder(urls.target_path(target.id)), (target.id,)
            follow_name = _("Följ delmål {id}").format(id=target.id)
        feeds = feed_links(settings, feed_prefix)
        html = list_tpl.render(
            **common,
            lang=lang,
            kind=kind,
            items=page.items,
            heading=heading,
            canonical=settings.url(page.path),
            feeds=feeds,
            page=page,
            page_label=_("Sida {n} av {m}").format(
                n=format_number(page.position, lang), m=format_number(page.count, lang)
            ),
            target=target,
            group=group,
            follow_name=follow_name,
            follow_email=subscribe_url(settings, follow_ids) if kind != "site" else "",
            follow_feed=feeds[0]["href"],
            root=relative_root(page.path),
            newer=settings.url(page.newer) if page.newer is not None else None,
            older=settings.url(page.older) if page.older is not None else None,
        )
        return html.encode("utf-8")

    listing(updates, "", "site")
    by_target: dict[str, list[Update]] = {t.id: [] for t in taxonomy.targets}
    for update in updates:  # one pass, not one per target: 10,000 updates × 19 targets adds up
        for target_id in update.targets:
            by_target[target_id].append(update)
    for target in taxonomy.targets:
        listing(by_target[target.id], urls.target_path(target.id), "target", target.id)
    for group in taxonomy.groups:
        members = set(group.targets)
        in_group = [u for u in updates if members.intersection(u.targets)]
        listing(in_group, urls.group_path(group.id), "group", group.id)
    not_found = env.get_template("pages/404.html").render(
        **common, lang=lang, canonical="", feeds=feed_links(settings), root=None
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


def favicon_ico(size: int = 64, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """The site's icon as ``favicon.ico``: an ICO file holding one PNG image (Windows Vista+)."""
    png = png_icon(size, templates_dir)
    header = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 = icon, one image
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png
