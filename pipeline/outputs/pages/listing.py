"""Listing pages: the site's, each target's and each area's, paginated without repeats.

Listing rules: docs/architecture.md, "Pages". An update is in up to eight listings (the site, its
targets, its areas); its row is made once per build, before the pages are (or taken from the
state folder: :mod:`.rows`), and joined into each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any

from markupsafe import Markup

from pipeline.caching.deferred import Deferred
from pipeline.caching.fingerprint import digest, quick_digest
from pipeline.config.site import Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale import translations
from pipeline.outputs import urls
from pipeline.outputs.labels import format_number
from pipeline.outputs.pages.layout import Layout, feed_links, subscribe_url
from pipeline.outputs.pages.links import relative_root, relative_url
from pipeline.outputs.pages.rows import RowMaker, rows_folder
from pipeline.reading.model import Update

# Rows are rendered with this in place of the page's relative root, then it is replaced per page.
# It cannot come from content: every text in a row is HTML-escaped, and escaping turns "<" into
# "&lt;", so this string appears exactly where the row template wrote ``root``.
ROW_ROOT = Markup("<root/>")

_fingerprint = attrgetter("fingerprint")


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


class Listings:
    """Describes every listing page (a digest of its inputs each) and renders them on demand."""

    def __init__(self, settings: Settings, layout: Layout, common: dict[str, Any]) -> None:
        self.settings = settings
        self.layout = layout
        self.common = common
        self.taxonomy = load_taxonomy()
        self.template = settings.env.get_template("pages/list.html")
        self._ = translations(settings.language).gettext
        self._rows: dict[str, dict[str, str]] = {}  # update slug -> {root: its row}
        self.rows = RowMaker(self._render_row, rows_folder(settings.state_dir, settings.context_digest))
        self._key_prefix = digest(settings.context_digest, "list page")

    def describe(self, updates: Sequence[Update]) -> dict[str, Deferred]:
        """Every listing page of the site, its targets and its areas, not yet rendered."""
        files: dict[str, Deferred] = {}
        self.rows.updates = updates
        self._listing(files, updates, "", "site")
        by_target: dict[str, list[Update]] = {t.id: [] for t in self.taxonomy.targets}
        group_of = {t.id: t.group for t in self.taxonomy.targets}
        by_group: dict[str, list[Update]] = {g.id: [] for g in self.taxonomy.groups}
        # One pass, not one per target or area (10,000 × 26 adds up), and the listings an update
        # joins worked out once per set of targets: a few hundred sets for 10,000 updates.
        # Each set's lists as their bound ``append``: 40,000 appends without looking one up.
        joins: dict[tuple[str, ...], list[Any]] = {}
        for update in updates:
            adds = joins.get(update.targets)
            if adds is None:
                ids = update.targets
                groups = dict.fromkeys(group_of[target_id] for target_id in ids)
                lists = [by_target[t] for t in ids] + [by_group[g] for g in groups]
                adds = joins[ids] = [listing.append for listing in lists]
            for add in adds:
                add(update)
        for target in self.taxonomy.targets:
            self._listing(files, by_target[target.id], urls.target_path(target.id), "target", target.id)
        for group in self.taxonomy.groups:
            self._listing(files, by_group[group.id], urls.group_path(group.id), "group", group.id)
        return files

    def _listing(
        self, files: dict[str, Deferred], items: Sequence[Update], base_path: str, kind: str, key: str = ""
    ) -> None:
        for page in paginate(items, self.settings.page_size, base_path):
            # The page's own facts as one repr (it never holds a NUL, so quick_digest keeps it
            # apart from the fingerprints; digest() tagged and hashed the eight one by one, six
            # times the cost), the items' fingerprints joined: 1,000 pages at 10k.
            facts = repr(
                (kind, key, page.path, page.number, page.position, page.count, page.newer, page.older)
            )
            files[f"{page.path}index.html"] = Deferred(
                quick_digest(self._key_prefix, facts, *map(_fingerprint, page.items)),
                partial(self.render, page, kind, key),
                (self.rows, page.items),
            )

    def _render_row(self, update: Update) -> str:
        return str(self.layout.row(update, ROW_ROOT))

    def row(self, update: Update, root: str) -> str:
        """The update's row on a page at ``root``: made once per build (:mod:`.rows`), with
        ROW_ROOT for the root, then copied once for each root it is shown at (two or three:
        ``""``, ``../../`` and ``../../../../``)."""
        rows = self._rows.get(update.slug)
        if rows is None:
            rows = self._rows[update.slug] = {ROW_ROOT: self.rows.row(update)}
        text = rows.get(root)
        if text is None:
            text = rows[root] = rows[ROW_ROOT].replace(ROW_ROOT, root)
        return text

    def render(self, page: ListPage, kind: str, key: str) -> bytes:
        _, lang, settings, taxonomy = self._, self.layout.lang, self.settings, self.taxonomy
        target = taxonomy.target(key) if kind == "target" else None
        group = taxonomy.group(key) if kind == "group" else taxonomy.group(target.group) if target else None
        root = relative_root(page.path)
        if kind == "site":
            heading = _("Senaste nytt") if page.number is None else _("Äldre nyheter")
            feed_prefix, follow_ids, follow_name, feed_title = urls.FEEDS, (), "", ""
        elif kind == "group":
            heading = feed_title = group.title(lang)
            feed_prefix, follow_ids = urls.feed_folder(urls.group_path(group.id)), group.targets
            follow_name = _("Följ området {name}").format(name=group.title(lang))
        else:
            heading = feed_title = _("Delmål {id}: {title}").format(id=target.id, title=target.title(lang))
            feed_prefix, follow_ids = urls.feed_folder(urls.target_path(target.id)), (target.id,)
            follow_name = _("Följ delmål {id}").format(id=target.id)
        feeds = feed_links(root, feed_prefix)
        rows = "".join([self.row(u, root) for u in page.items])
        html = self.template.render(
            **self.common,
            lang=lang,
            kind=kind,
            rows=Markup(rows),
            heading=heading,
            canonical=settings.url(page.path),
            feeds=feeds,
            feed_title=feed_title,
            page=page,
            page_label=_("Sida {n} av {m}").format(
                n=format_number(page.position, lang), m=format_number(page.count, lang)
            ),
            target=target,
            group=group,
            follow_name=follow_name,
            follow_email=subscribe_url(settings, follow_ids) if kind != "site" else "",
            follow_feed=feeds[0].href,
            root=root,
            newer=None if page.newer is None else relative_url(page.path, page.newer),
            older=None if page.older is None else relative_url(page.path, page.older),
        )
        return html.encode("utf-8")
