"""Builder for the HTML pages: one per update, the paginated front page and one per target.

Pure: ``build(updates, settings)`` returns ``{relative path: bytes}`` and reads only templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from markupsafe import Markup

from pipeline.content import Update
from pipeline.deferred import Deferred, Output
from pipeline.fingerprint import context_digest, digest
from pipeline.labels import labels
from pipeline.settings import Settings
from pipeline.taxonomy import load_taxonomy
from pipeline.templating import environment


def feed_links(settings: Settings, prefix: str = "feeds/") -> list[dict[str, str]]:
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
    number: int | None  # None for the front page
    newer: str | None  # path of the page with the next newer items
    older: str | None


def paginate(items: Sequence[Update], size: int, base_path: str) -> list[ListPage]:
    """The front page (the newest ``size`` items) and numbered pages counted from the oldest.

    Numbering from the oldest, like RFC 5005 feed archives, keeps every full page the same when
    an update is added: only the front page and the newest numbered page change, instead of every
    page of the listing shifting by one item (500 pages re-made per new update at 10,000). The
    front page may repeat some items of the newest numbered page.
    """
    oldest_first = list(reversed(items))
    count = -(-len(items) // size) if len(items) > size else 0  # all on the front page: no copies
    numbered = [
        (f"{base_path}page/{n}/", list(reversed(oldest_first[(n - 1) * size : n * size])), n)
        for n in range(1, count + 1)
    ]
    front_older = None
    if len(items) > size:
        front_older = numbered[(len(items) - size - 1) // size][0]
    pages = [ListPage(base_path, list(items[:size]), None, None, front_older)]
    for index, (path, chunk, number) in enumerate(numbered):
        newer = numbered[index + 1][0] if index + 1 < count else base_path
        older = numbered[index - 1][0] if index > 0 else None
        pages.append(ListPage(path, chunk, number, newer, older))
    return pages


def build(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    """Every page, deferred: a page is rendered only when the digest of its inputs changed."""
    env = environment()
    taxonomy = load_taxonomy()
    context = context_digest(settings)
    files: dict[str, Output] = {}
    # Badge lists repeat: each update's appears on its own page and in every listing it is in.
    # The macro stays in the template; its output is remembered per (targets, language).
    item_macros = env.get_template("pages/_item.html").make_module({"settings": settings})
    badges = lru_cache(maxsize=4096)(lambda ids, lang: Markup(item_macros.badges(list(ids), lang)))
    common = {
        "settings": settings,
        "site_lang": settings.language,
        "badges": lambda ids, lang: badges(tuple(ids), lang),
    }
    update_tpl = env.get_template("pages/update.html")

    def update_page(update: Update) -> bytes:
        html = update_tpl.render(
            **common,
            update=update,
            lang=update.lang,
            canonical=update.url,
            feeds=feed_links(settings),
            tz=settings.tz,
        )
        return html.encode("utf-8")

    for update in updates:
        files[f"{update.path}index.html"] = Deferred(
            digest(context, "update page", update.fingerprint), partial(update_page, update)
        )

    list_tpl = env.get_template("pages/list.html")

    def listing(
        items: Sequence[Update], base_path: str, heading: str, intro: str, feed_prefix: str, target=None
    ) -> None:
        pages = paginate(items, settings.page_size, base_path)
        count = len(pages) - 1
        for page in pages:
            key = digest(
                context,
                "list page",
                heading,
                intro,
                feed_prefix,
                target,
                page.path,
                page.number,
                count,
                page.newer,
                page.older,
                [u.fingerprint for u in page.items],
            )
            files[f"{page.path}index.html"] = Deferred(
                key, partial(list_page, page, heading, intro, feed_prefix, count, target)
            )

    def list_page(page: ListPage, heading, intro, feed_prefix, count, target) -> bytes:
        html = list_tpl.render(
            **common,
            lang=settings.language,
            items=page.items,
            heading=heading,
            intro=intro,
            canonical=settings.url(page.path),
            feeds=feed_links(settings, feed_prefix),
            page_number=page.number,
            page_count=count,
            target=target,
            tz=settings.tz,
            newer=settings.url(page.newer) if page.newer is not None else None,
            older=settings.url(page.older) if page.older is not None else None,
        )
        return html.encode("utf-8")

    listing(updates, "", settings.title, settings.description, "feeds/")
    lang = settings.language
    by_target: dict[str, list[Update]] = {t.id: [] for t in taxonomy.targets}
    for update in updates:  # one pass, not one per target: 10,000 updates × 19 targets adds up
        for target_id in update.targets:
            by_target[target_id].append(update)
    for target in taxonomy.targets:
        items = by_target[target.id]
        group = taxonomy.group(target.group)
        listing(
            items,
            f"targets/{target.id}/",
            f"{labels(lang)['target_heading']} {target.id}: {target.title(lang)}",
            group.title(lang),
            f"feeds/targets/{target.id}/",
            target=target,
        )
    files["static/style.css"] = (env.loader.get_source(env, "static/style.css")[0]).encode("utf-8")
    return files
