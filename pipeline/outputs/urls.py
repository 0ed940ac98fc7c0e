"""Where each kind of output lives on the site: one rule per URL shape.

Every path here is relative to the site root (``settings.url(path)`` makes it absolute) and a
folder path ends in ``/``. A page, its feeds, the partner snippets, the newsletter and the link
resolver must all agree on these shapes, so they are written once: change a rule here and every
link follows. Pure strings, no imports: reading uses :func:`update_path` too, because an update's
URL is known (and other updates link to it) as soon as it is read.
"""

from __future__ import annotations

UPDATES = "updates/"
TARGETS = "targets/"
GROUPS = "groups/"
FEEDS = "feeds/"
SNIPPETS = "snippets/"
NEWSLETTERS = "newsletters/"
FEED_FILES = ("rss.xml", "atom.xml", "feed.json")  # the subscription documents of a feed folder
OPML = f"{FEEDS}index.opml"


def update_path(slug: str) -> str:
    """An update's page folder: ``updates/{slug}/``."""
    return f"{UPDATES}{slug}/"


def target_path(target_id: str) -> str:
    """A goal-17 target's listing: ``targets/17.9/``."""
    return f"{TARGETS}{target_id}/"


def group_path(group_id: str) -> str:
    """An area's listing: ``groups/{id}/``."""
    return f"{GROUPS}{group_id}/"


def listing_page_path(base_path: str, number: int) -> str:
    """Archive page ``number`` (counted from the oldest) of the listing at ``base_path``."""
    return f"{base_path}page/{number}/"


def feed_folder(page_path: str) -> str:
    """The feeds of a listing live under ``feeds/`` + its path: ``feeds/targets/17.9/``, ``feeds/lang/sv/``."""
    return f"{FEEDS}{page_path}"


def language_path(lang: str) -> str:
    """A language's scope (feeds and snippets only, no page): ``lang/sv/``."""
    return f"lang/{lang}/"


def issue_path(number: int, lang: str, site_language: str) -> str:
    """A newsletter issue's web version: ``newsletters/4/`` in the site's language, else ``newsletters/4/en/``."""
    folder = f"{NEWSLETTERS}{number}/"
    return folder if lang == site_language else f"{folder}{lang}/"
