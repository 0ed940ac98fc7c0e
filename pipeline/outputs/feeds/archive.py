"""RFC 5005 archived feeds: older site-wide updates stay reachable in fixed, stable pages.

The site's subscription document holds only the newest ``feed_items`` updates (a language,
area or target feed the newest ``scope_feed_items``, and has no archive). Everything is also cut
into archive pages of ``feed_items`` updates each, counted from the oldest (by date, then id), so
adding a new update never moves an old one to another page; only full pages are published, and
the updates not yet on a full page are all in the subscription document (there are fewer of them
than it holds). Links (per format, each pointing at its own format):

* subscription document: ``prev-archive`` → the newest archive page (JSON Feed: ``next_url``);
* archive page n: ``current`` → the subscription document, ``prev-archive`` → n-1 (JSON Feed:
  ``next_url``). There is no ``next-archive`` (RFC 5005 makes it optional, and readers walk
  backwards from the subscription document): the newest page would have to link somewhere that
  moves when a newer page appears, so a full page would change once more.

A full page never changes (unless an update on it is edited, or a back-dated update is inserted
before it): not its entries, not its links.

Archive entries carry the summary, the link and the metadata, not the whole text
(``FeedPage.full_content`` is off): a reader backfilling a history gets every update and its
page, and the archive of 10,000 updates is about 40 MB instead of 220 MB, written on every cold
build and uploaded on every deploy. The subscription documents keep the whole text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pipeline.config.site import Settings
from pipeline.outputs.feeds.model import ARCHIVE_DIR, FeedPage, FeedScope
from pipeline.reading.model import Update, sort_key


def archive_folder(number: int) -> str:
    return f"{ARCHIVE_DIR}{number}/"


def feed_pages(scope: FeedScope, settings: Settings) -> list[FeedPage]:
    """The subscription document of ``scope`` and, for the site-wide scope, its archive pages."""
    if scope.kind != "site":
        return [
            FeedPage(scope=scope, folder=scope.folder, entries=scope.updates[: settings.scope_feed_items])
        ]
    size = settings.feed_items
    newest = scope.updates[:size]
    oldest_first, newest_first = _oldest_first(scope.updates, scope.distinct_instants)
    full = len(oldest_first) // size
    result = [
        FeedPage(
            scope=scope,
            folder=scope.folder,
            entries=newest,
            prev_archive=archive_folder(full) if full else None,
        )
    ]
    for number in range(full, 0, -1):
        chunk = oldest_first[(number - 1) * size : number * size]
        result.append(
            FeedPage(
                scope=scope,
                folder=archive_folder(number),
                entries=newest_first(chunk),
                archive_number=number,
                prev_archive=archive_folder(number - 1) if number > 1 else None,
                current=scope.folder,
                full_content=False,
            )
        )
    return result


def _oldest_first(
    updates: Sequence[Update], distinct: bool | None = None
) -> tuple[Sequence[Update], Callable[[Sequence[Update]], tuple[Update, ...]]]:
    """``updates`` (newest first) oldest first by (date, id), and how to put a slice of that
    back newest first.

    When no two updates share an instant, both are reversals: the order is total on the date
    alone. Otherwise equal dates keep their ids ascending both ways, and both are sorted.
    """
    if distinct is None:  # ``distinct``: whether no two share an instant, when known
        stamps = [sort_key(u)[0] for u in updates]
        distinct = len(set(stamps)) == len(stamps)
    if distinct:
        return updates[::-1], _reversed
    # sort_key keeps each update's timestamp, so it is taken once.
    return sorted(updates, key=lambda u: (-sort_key(u)[0], u.id)), _newest_first


def _reversed(chunk: Sequence[Update]) -> tuple[Update, ...]:
    return tuple(chunk[::-1])


def _newest_first(chunk: Sequence[Update]) -> tuple[Update, ...]:
    return tuple(sorted(chunk, key=sort_key))
