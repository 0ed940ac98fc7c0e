"""Which feeds exist and what each one holds: pure data, no XML or JSON yet.

A *scope* is a stream a reader can subscribe to (everything, one target, one group of targets, one
language). A *page* is one document of a scope in all three formats: the subscription document
(the newest items) or, for the site-wide scope, one RFC 5005 archive page. The writers
(:mod:`.rss_atom`, :mod:`.jsonfeed`) turn a page into bytes and never decide what goes in it.

Everything here is derived from the updates and the settings only, so the same content gives the
same pages: no clock, and every ordering is total (date, then id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.config.site import Settings
from pipeline.config.taxonomy import Group, Target, load_taxonomy
from pipeline.locale import babel_locale, translations
from pipeline.outputs import urls
from pipeline.outputs.labels import format_number
from pipeline.reading.model import Update, sort_key
from pipeline.reading.sanitize import clean_text

FEEDS_DIR = urls.FEEDS
ARCHIVE_DIR = FEEDS_DIR + "archive/"
RSS_FILE = "rss.xml"
ATOM_FILE = "atom.xml"
JSON_FILE = "feed.json"
FORMATS = (RSS_FILE, ATOM_FILE, JSON_FILE)
# RFC 5005 defines archives for Atom and applies them to RSS; JSON Feed's next_url pagination
# "reader software is not required to use it and probably won't use it very often" (JSON Feed
# 1.1), so JSON Feed has no archive pages: 7 MB less at 10,000 updates (issue 16).
ARCHIVE_FORMATS = (RSS_FILE, ATOM_FILE)
ICON_PATH = FEEDS_DIR + "icon.png"  # 512×512, JSON Feed icon and Atom logo
FAVICON_PATH = FEEDS_DIR + "favicon.png"  # 64×64, Atom icon, RSS image, JSON Feed favicon

# A feed with no items still needs an `updated`/`lastBuildDate`; it must not be the build time
# (that would change the bytes on every build), so it is this fixed, documented instant.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)

GENERATOR = "goal17-syndication"


@dataclass(frozen=True)
class Category:
    term: str
    label: str
    scheme: str | None  # the taxonomy's URL for targets; None for free tags


@dataclass(frozen=True)
class FeedScope:
    kind: str  # "site", "lang", "group" or "target"
    key: str  # "" for site, else the language, group id or target id
    folder: str  # "feeds/", "feeds/targets/17.9/", …
    title: str
    description: str
    language: str
    home_url: str  # the HTML page this feed mirrors (rel=alternate)
    updates: tuple[Update, ...]  # every update in scope, newest first

    @property
    def name(self) -> str:
        return self.kind if not self.key else f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class FeedPage:
    """One feed document (in three formats): a scope's subscription document or an archive page."""

    scope: FeedScope
    folder: str  # where rss.xml, atom.xml and feed.json of this page live
    entries: tuple[Update, ...]  # newest first
    archive_number: int | None = None  # None for the subscription document
    prev_archive: str | None = None  # folder of the next older archive page
    current: str | None = None  # folder of the subscription document, on archive pages
    full_content: bool = True  # False: entries carry their summary and link, not the whole text

    @property
    def is_archive(self) -> bool:
        return self.archive_number is not None

    @property
    def formats(self) -> tuple[str, ...]:
        """The file names this page is published as."""
        return ARCHIVE_FORMATS if self.is_archive else FORMATS

    def links_archive(self, filename: str) -> bool:
        """Whether this page's ``filename`` links to archive pages (they exist in that format)."""
        return self.prev_archive is not None and filename in ARCHIVE_FORMATS

    @property
    def updated(self) -> datetime:
        """The newest ``updated`` among the entries: changes only when an entry does."""
        return max((u.updated for u in self.entries), default=EMPTY_FEED_UPDATED)

    def title(self) -> str:
        if self.archive_number is None:
            return self.scope.title
        _ = translations(self.scope.language).gettext
        number = format_number(self.archive_number, self.scope.language)
        return _("{title} (arkiv {n})").format(title=self.scope.title, n=number)


def language_name(code: str) -> str:
    """A language's own name for itself from CLDR ("svenska", "English"), for the language feeds."""
    try:
        return babel_locale(code).get_language_name() or code
    except ValueError:  # not a language CLDR knows
        return code


def target_range(group: Group) -> str:
    first, last = group.targets[0], group.targets[-1]
    return first if first == last else f"{first}–{last}"


def scopes(updates: Sequence[Update], settings: Settings) -> list[FeedScope]:
    """Every feed scope, in a fixed order: site, languages, groups, targets (taxonomy order)."""
    taxonomy = load_taxonomy()
    lang = settings.language
    _ = translations(lang).gettext
    ordered = tuple(sorted(updates, key=sort_key))
    found: list[FeedScope] = [
        FeedScope(
            kind="site",
            key="",
            folder=FEEDS_DIR,
            title=settings.title,
            description=settings.description,
            language=lang,
            home_url=settings.url(),
            updates=ordered,
        )
    ]
    by_language: dict[str, list[Update]] = {}
    for update in ordered:  # one pass, not one per language
        by_language.setdefault(update.lang, []).append(update)
    languages = sorted(by_language)
    if len(languages) > 1:
        for code in languages:
            found.append(
                FeedScope(
                    kind="lang",
                    key=code,
                    folder=urls.feed_folder(urls.language_path(code)),
                    title=f"{settings.title} – {language_name(code)}",
                    description=translations(code)
                    .gettext("{description} Endast nyheter på {language}.")
                    .format(description=settings.description, language=language_name(code)),
                    language=code,
                    home_url=settings.url(),
                    updates=tuple(by_language[code]),
                )
            )
    by_target: dict[str, list[Update]] = {t.id: [] for t in taxonomy.targets}
    by_group: dict[str, list[Update]] = {g.id: [] for g in taxonomy.groups}
    groups_of = {t.id: [g.id for g in taxonomy.groups if t.id in g.targets] for t in taxonomy.targets}
    # An update's groups, each once, per distinct tuple of targets (a few hundred at most).
    groups_of_targets: dict[tuple[str, ...], tuple[str, ...]] = {}
    for update in ordered:  # one pass over the updates, not one per target or group
        for target_id in update.targets:
            by_target[target_id].append(update)
        # The updates of a group's targets, each once, in the site-wide order.
        targets = update.targets if type(update.targets) is tuple else tuple(update.targets)
        groups = groups_of_targets.get(targets)
        if groups is None:
            groups = groups_of_targets[targets] = tuple(
                dict.fromkeys(g for t in update.targets for g in groups_of[t])
            )
        for group_id in groups:
            by_group[group_id].append(update)
    for group in taxonomy.groups:
        in_group = by_group[group.id]
        found.append(
            FeedScope(
                kind="group",
                key=group.id,
                folder=urls.feed_folder(urls.group_path(group.id)),
                title=_("Mål 17 — {area}").format(area=group.title(lang)),
                description=_("Nyheter om mål 17, {title} ({targets}).").format(
                    title=group.title(lang), targets=_("delmål {range}").format(range=target_range(group))
                ),
                language=lang,
                home_url=settings.url(urls.group_path(group.id)),  # the area's page
                updates=tuple(in_group),
            )
        )
    for target in taxonomy.targets:
        found.append(target_scope(target, by_target[target.id], settings))
    return found


def target_scope(target: Target, in_scope: Sequence[Update], settings: Settings) -> FeedScope:
    """The feed of one target; ``in_scope`` are the updates about it, newest first."""
    lang = settings.language
    _ = translations(lang).gettext
    return FeedScope(
        kind="target",
        key=target.id,
        folder=urls.feed_folder(urls.target_path(target.id)),
        title=_("Mål 17 — delmål {id}: {title}").format(id=target.id, title=target.title(lang)),
        description=_("Nyheter om delmål {id} i Agenda 2030, mål 17: {title}.").format(
            id=target.id, title=target.title(lang)
        ),
        language=lang,
        home_url=settings.url(urls.target_path(target.id)),
        updates=tuple(in_scope),
    )


def categories(update: Update) -> list[Category]:
    """Targets first (with the taxonomy's scheme URL), then the author's free tags."""
    taxonomy = load_taxonomy()
    found = [
        Category(term=t, label=clean_text(taxonomy.target(t).title(update.lang)), scheme=taxonomy.scheme)
        for t in update.targets
    ]
    found += [Category(term=clean_text(tag), label=clean_text(tag), scheme=None) for tag in update.tags]
    return found
