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


def make_resolver(
    source_rel: str,
    page_url: str,
    settings: Settings,
    targets: LinkTargets,
    on_missing: Callable[[str], None],
    lookups: list[Lookup] | None = None,
) -> Callable[[str], str | None]:
    """Relative URL → absolute URL, the way an author of ``source_rel`` means it.

    A path naming a content file (``other.md``, ``media/x.jpg``) is taken relative to the
    Markdown file and points at that update's page or the copied asset; ``/path`` is taken from
    the site root (the base URL); anything else is resolved like a browser would, against the
    update's own page. Each lookup of a content path is appended to ``lookups``, so a cached
    result can later be checked against the content folder as it is then.
    """

    md_links, assets = targets.pages, targets.assets

    def resolve(url: str) -> str | None:
        if url.startswith("//"):
            return "https:" + url
        parts = _split(url)
        if parts.scheme:
            return None
        if not parts.path:
            target = page_url
        else:
            rel = content_path(source_rel, parts.path)
            if lookups is not None:
                lookups.append((rel, md_links.get(rel), rel in assets))
            if rel in md_links:
                target = md_links[rel]
            elif rel in assets or parts.path.startswith("/"):
                target = settings.url(quote(rel, safe="/"))
                if parts.path.endswith("/") and not target.endswith("/"):
                    target += "/"
            else:
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

    return resolve
