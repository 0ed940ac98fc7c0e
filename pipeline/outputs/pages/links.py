"""Links inside the site's pages, written relative to the page that holds them.

Pages link to each other, to the stylesheet, the icons, the feeds and the media relatively
(``../../targets/17.9/``), so the same bytes work wherever the folder is served: the public host,
under a base URL with a path (``https://example.se/mal17/``), the live preview with its local
address, or opened from disk. That is also a tenth of the bytes of every page: an absolute base
URL repeated in every link. What must stay absolute stays absolute: ``rel=canonical``, the
sign-up service (it may live on another host) and the 404 page, which is answered at any depth
(its ``root`` is the absolute base URL). Feeds, mails and snippets keep absolute links: they are
read out of context. An update's body arrives with absolute URLs (it is shared with feeds and
mail), so :func:`relative_html` rewrites its in-site ones, for its page only.
"""

from __future__ import annotations

import re
from functools import cache

from markupsafe import Markup, escape


def relative_root(page_path: str) -> str:
    """``../`` once per folder level of ``page_path``: the site root, seen from that page."""
    return "../" * page_path.count("/")


def relative_url(page_dir: str, target: str) -> str:
    """``target`` (a site path, maybe with ``?query`` or ``#fragment``) as seen from ``page_dir``.

    ``page_dir`` is a page's folder (``updates/a/``, ``""`` for the root); the result resolves
    against that folder's URL to the same URL as ``base_url + target``: ``updates/a/#x`` from
    ``updates/a/`` is ``#x``, ``updates/b/`` is ``../b/``, ``media/x.png`` is ``../../media/x.png``.
    """
    cut = len(target)
    for mark in ("?", "#"):
        at = target.find(mark)
        if at != -1 and at < cut:
            cut = at
    path, rest = target[:cut], target[cut:]
    if path == page_dir:
        return rest or "./"
    here = page_dir.split("/")[:-1]
    *folders, leaf = path.split("/")
    common = 0
    while common < len(here) and common < len(folders) and here[common] == folders[common]:
        common += 1
    down = "".join(f"{folder}/" for folder in folders[common:]) + leaf
    up = "../" * (len(here) - common)
    if not up and (down.startswith("/") or ":" in down.split("/", 1)[0]):
        up = "./"  # "//host/x" or "a:b" would read as another host or a scheme
    return (up + down or "./") + rest


def in_site(url: str, base_url: str, root: str) -> Markup:
    """``url`` relative to the page whose site root is ``root`` when it is on the site, else as is.

    For URLs computed outside the pages (an update's image): ``root`` is the page's relative
    root (``../../``), so the result is ``root`` + the URL's site path, escaped for HTML.
    """
    if url.startswith(base_url):
        return Markup(root) + url[len(base_url) :]
    return escape(url)


@cache
def _in_site_attribute(base_url: str) -> re.Pattern[str]:
    # A start tag, then attributes (values in double quotes, as nh3 writes them: a quote inside
    # a value is &quot;), up to an href or src whose value starts with the base URL. Text never
    # holds a raw "<" (nh3 escapes it), so a match is always inside a tag, never in prose or code.
    base = re.escape(str(escape(base_url)))
    return re.compile(r'(<[a-zA-Z][^\s<>"/]*(?:[^<>"]|"[^"]*")*?\s(?:href|src)=")' + base + r'([^"]*)"')


def relative_html(html: str, base_url: str, page_dir: str) -> str:
    """Sanitized HTML (an update's body or table of contents) with in-site links made relative.

    The body's absolute URLs are right for feeds and mail; on its own page ``https://…/updates/a/#x``
    becomes ``#x`` and ``https://…/updates/b/`` becomes ``../b/``. Links elsewhere are untouched.
    """
    if escape(base_url) not in html:
        return html
    return _in_site_attribute(base_url).sub(
        lambda m: f'{m.group(1)}{relative_url(page_dir, m.group(2))}"', html
    )
