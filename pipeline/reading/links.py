"""The link resolver: a URL an author wrote in an update → the absolute URL readers follow.

Rules (docs/architecture.md, "Rendering"): a path naming a content file points at that update's
page or the copied asset; ``/path`` is taken from the site root; anything else is resolved like a
browser would, against the update's own page; ``#fragment`` and ``?query`` alone attach to it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pipeline.config.site import Settings
from pipeline.reading.model import LinkTargets, Lookup


def content_path(source_rel: str, url_path: str) -> str:
    """A path written in ``source_rel`` resolved to a content-relative path (no leading ../)."""
    return _content_path_from(posixpath.dirname(source_rel), url_path)


@lru_cache(maxsize=1 << 16)
def _content_path_from(folder: str, url_path: str) -> str:
    # Remembered per (folder, path): the same links recur in update after update (media files,
    # other updates), and a cold build resolves ~140,000 of them.
    path = unquote(url_path)
    joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
    normal = posixpath.normpath(joined) if joined else ""
    while normal.startswith("../"):
        normal = normal[3:]
    return "" if normal in (".", "..") else normal


_split = lru_cache(maxsize=1 << 16)(urlsplit)  # pure, and links recur across updates
split_url = _split  # urlsplit, remembered: for the few other URLs an update repeats (its image)


def make_resolver(
    source_rel: str,
    page_url: str,
    settings: Settings,
    targets: LinkTargets,
    on_missing: Callable[[str], None],
    lookups: list[Lookup] | None = None,
    answers: list[str | None] | None = None,
) -> Callable[[str], str | None]:
    """Relative URL → absolute URL, the way an author of ``source_rel`` means it.

    A path naming a content file (``other.md``, ``media/x.jpg``) is taken relative to the
    Markdown file and points at that update's page or the copied asset; ``/path`` is taken from
    the site root (the base URL); anything else is resolved like a browser would, against the
    update's own page. Each lookup of a content path is appended to ``lookups``, so a cached
    result can later be checked against the content folder as it is then. Each answer is
    appended to ``answers`` (the fingerprint's record of them, in order), which spares the caller
    a wrapper around every one of a cold build's ~140,000 calls.
    """

    md_links, assets = targets.pages, targets.assets
    folder = posixpath.dirname(source_rel)
    plans = _plans_for(settings, targets)
    memo = plans.get(folder)  # keyed by folder, then URL: no key tuple to build per call
    if memo is None:
        memo = plans[folder] = {}

    # Bound once: a resolver answers a dozen links (the lists given or throwaway ones).
    record = (lookups if lookups is not None else []).append
    answered = (answers if answers is not None else []).append
    get = memo.get

    def resolve(url: str) -> str | None:
        plan = get(url)
        if plan is None:
            plan = memo[url] = _plan(url, folder, settings, md_links, assets)
        kind, value, lookup = plan
        if lookup is not None:
            record(lookup)
        if kind == _FIXED:
            answer: str | None = value
        elif kind == _PAGE:
            answer = page_url + value
        elif kind == _REFUSED:
            answer = None
        else:
            answer = _against_page(url, value, page_url, settings, on_missing)
        answered(answer)
        return answer

    return resolve


# What a URL written in a folder resolves to, worked out once per build: a cold build resolves
# ~140,000 links, most of them the same few hundred. (kind, value, lookup): _FIXED → value is the
# answer; _PAGE → the answer is the update's own page URL + value (its query and fragment);
# _REFUSED → None (a URL with a scheme, left to the sanitizer's scheme list); _OTHER → resolved
# against the page each time (it depends on the page, and may warn about a missing file).
_FIXED, _PAGE, _REFUSED, _OTHER = range(4)
Plan = tuple[int, str, "Lookup | None"]
# (settings, pages, assets, plans): the memo and the objects it was made for. Replaced whole, and
# read once per resolver, so a thread never mixes one build's plans with another's targets.
_latest: list[tuple] = [(None, None, None, {})]


def _plans_for(settings: Settings, targets: LinkTargets) -> dict[str, dict[str, Plan]]:
    """The plan memo (folder → URL → plan) for this build's settings and link targets (the latest build's is kept)."""
    memo = _latest[0]
    if memo[0] is not settings or memo[1] is not targets.pages or memo[2] is not targets.assets:
        memo = _latest[0] = (settings, targets.pages, targets.assets, {})
    return memo[3]


def _plan(url: str, folder: str, settings: Settings, md_links: dict[str, str], assets: dict) -> Plan:
    if url.startswith("//"):
        return _FIXED, "https:" + url, None
    parts = _split(url)
    if parts.scheme:
        return _REFUSED, "", None
    suffix = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    if not parts.path:
        return _PAGE, suffix, None
    rel = _content_path_from(folder, parts.path)
    lookup = (rel, md_links.get(rel), rel in assets)
    if rel in md_links:
        return _FIXED, md_links[rel] + suffix, lookup
    if rel in assets or parts.path.startswith("/"):
        target = settings.url(quote(rel, safe="/"))
        if parts.path.endswith("/") and not target.endswith("/"):
            target += "/"
        return _FIXED, target + suffix, lookup
    return _OTHER, rel, lookup


def _against_page(
    url: str, rel: str, page_url: str, settings: Settings, on_missing: Callable[[str], None]
) -> str:
    """A relative URL naming no content file, resolved like a browser would against the page."""
    parts = _split(url)
    if rel.endswith(".md") or posixpath.splitext(rel)[1]:
        on_missing(parts.path)
    base = urlsplit(page_url)
    joined = posixpath.normpath(posixpath.join(base.path, unquote(parts.path)))
    if parts.path.endswith("/") and not joined.endswith("/"):
        joined += "/"
    root_path = urlsplit(settings.base_url).path
    if not joined.startswith(root_path):
        joined = root_path + joined.lstrip("/")
    target = urlunsplit((base.scheme, base.netloc, quote(joined, safe="/"), "", ""))
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return target + query + fragment
