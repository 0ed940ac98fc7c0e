"""Which feeds exist and what each one holds: pure data, no XML or JSON yet.

A *scope* is a stream a reader can subscribe to (everything, one target, one group of targets, one
language). A *page* is one document of a scope in all three formats: the subscription document
(the newest items) or, for the site-wide scope, one RFC 5005 archive page. The writers
(:mod:`.rss_atom`, :mod:`.jsonfeed`) turn a page into bytes and never decide what goes in it.

Everything here is derived from the updates and the settings only, so the same content gives the
same pages: no clock, and every ordering is total (date, then id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, partial
from operator import attrgetter, itemgetter

from pipeline.config.site import Settings
from pipeline.config.taxonomy import Group, Target, load_taxonomy
from pipeline.locale import babel_locale, translations
from pipeline.outputs import urls
from pipeline.outputs.feeds.members import Members, ScopeUpdates
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
    """One feed scope: where it lives, what it is called, and the updates in it.

    Describing the feeds happens on every build, making a document only when its inputs
    changed, so a scope carries what the keys need and computes the rest on first use: its
    ``title`` and ``description`` (a language's name comes from Babel's locale data: 0.05 s of
    CPU to load for two languages), and, for a language, group or target, the updates beyond
    the newest few (:class:`~pipeline.outputs.feeds.members.ScopeUpdates`).
    """

    kind: str  # "site", "lang", "group" or "target"
    key: str  # "" for site, else the language, group id or target id
    folder: str  # "feeds/", "feeds/targets/17.9/", …
    language: str
    home_url: str  # the HTML page this feed mirrors (rel=alternate)
    updates: Sequence[Update]  # every update in scope, newest first
    # What title and description are made of besides the settings and the code, for keys.
    words: tuple[str, ...]
    _texts: Callable[[], tuple[str, str]] = field(repr=False, compare=False)
    # The site scope: whether no two updates share an instant (its archive pages are then
    # reversals, :func:`~.archive.feed_pages`), known from the sort; None: not known.
    distinct_instants: bool | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.kind if not self.key else f"{self.kind}:{self.key}"

    @cached_property
    def texts(self) -> tuple[str, str]:
        """(title, description), made on first use."""
        return self._texts()

    @property
    def title(self) -> str:
        return self.texts[0]

    @property
    def description(self) -> str:
        return self.texts[1]


_UPDATED = attrgetter("updated")


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

    @cached_property
    def updated(self) -> datetime:
        """The newest ``updated`` among the entries: changes only when an entry does.

        Kept: the builder asks for it right after reading the entries' fingerprints, while
        they are in the CPU's cache, and the index, the OPML files and the shells ask again.
        """
        # ``map`` over an attrgetter: the same order, so the same first maximum, without a
        # generator's frame per entry (the archive pages' 10,000 entries, on every build).
        return max(map(_UPDATED, self.entries), default=EMPTY_FEED_UPDATED)

    def title(self) -> str:
        if self.archive_number is None:
            return self.scope.title
        _ = translations(self.scope.language).gettext
        number = format_number(self.archive_number, self.scope.language)
        return _("{title} (arkiv {n})").format(title=self.scope.title, n=number)


def language_name(code: str) -> str:
    """A language's own name for itself from CLDR ("svenska", "English"), for the language feeds.

    Babel loads the locale's whole data file to answer: asked only when a document or list that
    shows the name is made (:attr:`FeedScope.title`), and keyed by :func:`babel_version`.
    """
    try:
        return babel_locale(code).get_language_name() or code
    except ValueError:  # not a language CLDR knows
        return code


def babel_version() -> str:
    """Babel's version, part of the key of every text that holds a name from its locale data
    (Babel is not among the libraries of the code digest)."""
    import babel

    return babel.__version__


def target_range(group: Group) -> str:
    first, last = group.targets[0], group.targets[-1]
    return first if first == last else f"{first}–{last}"


def scopes(updates: Sequence[Update], settings: Settings) -> list[FeedScope]:
    """Every feed scope, in a fixed order: site, languages, groups, targets (taxonomy order)."""
    taxonomy = load_taxonomy()
    lang = settings.language
    _ = translations(lang).gettext
    # One pass over the updates for their keys (each a dict lookup in a different object, the
    # cost of every pass over 10,000 updates), then the sort and the archive's check on them.
    keys = list(map(sort_key, updates))
    ordered = tuple([updates[i] for i in sorted(range(len(keys)), key=keys.__getitem__)])
    distinct = len(set(map(itemgetter(0), keys))) == len(keys)
    found: list[FeedScope] = [
        FeedScope(
            kind="site",
            key="",
            folder=FEEDS_DIR,
            language=lang,
            home_url=settings.url(),
            updates=ordered,
            words=(settings.title, settings.description),
            _texts=partial(tuple, (settings.title, settings.description)),
            distinct_instants=distinct,
        )
    ]
    members = Members(ordered, taxonomy)
    language_totals, target_totals, group_totals = members.totals
    languages = sorted(language_totals)
    lists, complete = members.newest(settings.scope_feed_items, languages=len(languages) > 1)
    by_language, by_target, by_group = lists

    def scope(kind: str, key: str, lists: dict[str, list[Update]], total: int, **rest) -> FeedScope:
        newest = lists[key]
        if complete:
            return FeedScope(kind=kind, key=key, updates=tuple(newest), **rest)
        every = partial(_every, members, _LISTS[kind], key)
        return FeedScope(kind=kind, key=key, updates=ScopeUpdates(newest, total, every), **rest)

    if len(languages) > 1:
        for code in languages:
            found.append(
                scope(
                    "lang",
                    code,
                    by_language,
                    language_totals[code],
                    folder=urls.feed_folder(urls.language_path(code)),
                    language=code,
                    home_url=settings.url(),
                    words=("babel", babel_version()),
                    _texts=partial(_language_texts, code, settings),
                )
            )
    for group in taxonomy.groups:
        title = _("Mål 17 — {area}").format(area=group.title(lang))
        description = _("Nyheter om mål 17, {title} ({targets}).").format(
            title=group.title(lang), targets=_("delmål {range}").format(range=target_range(group))
        )
        found.append(
            scope(
                "group",
                group.id,
                by_group,
                group_totals[group.id],
                folder=urls.feed_folder(urls.group_path(group.id)),
                language=lang,
                home_url=settings.url(urls.group_path(group.id)),  # the area's page
                words=(title, description),
                _texts=partial(tuple, (title, description)),
            )
        )
    for target in taxonomy.targets:
        title, description = target_texts(target, settings)
        found.append(
            scope(
                "target",
                target.id,
                by_target,
                target_totals[target.id],
                folder=urls.feed_folder(urls.target_path(target.id)),
                language=lang,
                home_url=settings.url(urls.target_path(target.id)),
                words=(title, description),
                _texts=partial(tuple, (title, description)),
            )
        )
    return found


_LISTS = {"lang": 0, "target": 1, "group": 2}


def _every(members: Members, which: int, key: str) -> list[Update]:
    return members.everything[which][key]


def _language_texts(code: str, settings: Settings) -> tuple[str, str]:
    """A language feed's title and description, in that language, with its CLDR name."""
    name = language_name(code)
    description = (
        translations(code)
        .gettext("{description} Endast nyheter på {language}.")
        .format(description=settings.description, language=name)
    )
    return f"{settings.title} – {name}", description


def target_texts(target: Target, settings: Settings) -> tuple[str, str]:
    """The title and description of one target's feed, in the site's language."""
    lang = settings.language
    _ = translations(lang).gettext
    title = _("Mål 17 — delmål {id}: {title}").format(id=target.id, title=target.title(lang))
    description = _("Nyheter om delmål {id} i Agenda 2030, mål 17: {title}.").format(
        id=target.id, title=target.title(lang)
    )
    return title, description


def categories(update: Update) -> list[Category]:
    """Targets first (with the taxonomy's scheme URL), then the author's free tags."""
    taxonomy = load_taxonomy()
    found = [
        Category(term=t, label=clean_text(taxonomy.target(t).title(update.lang)), scheme=taxonomy.scheme)
        for t in update.targets
    ]
    found += [Category(term=clean_text(tag), label=clean_text(tag), scheme=None) for tag in update.tags]
    return found
