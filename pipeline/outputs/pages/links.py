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

from functools import cache, lru_cache
from itertools import islice

from markupsafe import Markup, escape

from pipeline.outputs.templating import quick_escape


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
        at = target.find(mark, 0, cut)
        if at != -1:
            cut = at
    path, rest = target[:cut], target[cut:]
    if path == page_dir:
        return rest or "./"
    if path.startswith(page_dir):
        down = path[len(page_dir) :]
        if down.startswith("/") or ":" in down.split("/", 1)[0]:
            down = "./" + down  # "//host/x" or "a:b" would read as another host or a scheme
        return down + rest
    # Out of the page's folder: one level up, then the way from its parent folder, which every
    # page in that folder shares (an update page's links to media and to other updates).
    return "../" + _from_folder(page_dir[: page_dir.rfind("/", 0, -1) + 1], path) + rest


@lru_cache(maxsize=1 << 14)
def _from_folder(folder: str, path: str) -> str:
    """``path`` from ``folder``: ``../`` up to the nearest folder both share, then down."""
    up = ""
    while not path.startswith(folder):  # "" at worst
        folder = folder[: folder.rfind("/", 0, -1) + 1]
        up += "../"
    return up + path[len(folder) :]


def in_site(url: str, base_url: str, root: str) -> Markup:
    """``url`` relative to the page whose site root is ``root`` when it is on the site, else as is.

    For URLs computed outside the pages (an update's image): ``root`` is the page's relative
    root (``../../``), so the result is ``root`` + the URL's site path, escaped for HTML.
    """
    if url.startswith(base_url):
        rest = url[len(base_url) :]
        if type(root) is str and type(rest) is str:
            # What ``Markup(root) + rest`` makes (root as it is, rest escaped), without Markup's
            # add, its classmethod escape and two constructors: a thumbnail on 14,000 pages.
            return _new_str(Markup, str.__add__(root, quick_escape(rest)))
        return Markup(root) + rest
    return escape(url)


_new_str = str.__new__


@cache
def _marker(base_url: str) -> tuple[str, str]:
    base = str(escape(base_url))  # as it is written in an attribute
    return base, f'="{base}'


def relative_html(html: str, base_url: str, page_dir: str) -> str:
    """Sanitized HTML (an update's body or table of contents) with in-site links made relative.

    The body's absolute URLs are right for feeds and mail; on its own page ``https://…/updates/a/#x``
    becomes ``#x`` and ``https://…/updates/b/`` becomes ``../b/``. Links elsewhere are untouched.
    Only ``href``/``src`` attributes change, never text: nh3 escapes ``<``, ``>`` and ``"`` in
    text and attribute values alike (``tests/test_pages_links.py`` holds it to that), so a raw
    ``<`` opens a tag, ``>`` closes it, and inside a tag an even count of ``"`` means "between
    attributes".

    The text is cut at every ``="`` + base URL in one C pass (``str.split``); each piece then
    starts with a link's site path, and the piece before it ends with what precedes the link.
    A piece holding no quote (a value that runs into the next base URL, which the link-by-link
    rewrite would swallow) sends the whole text to :func:`_relative_html_each`.
    """
    base, marker = _marker(base_url)
    if marker not in html:
        return html
    folders = _folders(page_dir)
    if folders is None:
        return _relative_html_each(html, html.find(marker), marker, page_dir)
    own, own_len, up_from = folders
    pieces = html.split(marker)
    previous = pieces[0]
    out = [previous]
    at = len(previous)  # where the piece's marker is in ``html``
    site = len(marker)
    for piece in islice(pieces, 1, None):
        end = piece.find('"')
        if end == -1:
            return _relative_html_each(html, html.find(marker), marker, page_dir)
        # ``<a href="…`` (most links) is a link's value by the tests of _in_href_or_src at once:
        # the tag starts right there, with no ">" and no quote before the value.
        if previous.endswith("<a href") or _in_href_or_src(html, at):
            if piece.startswith(own):  # the page's own folder: relative_url's first two cases
                if piece.startswith("#", own_len):  # a place on this page: its fragment alone
                    out += ('="', piece[own_len:])
                else:
                    out += ('="', _down(piece[own_len:end]), piece[end:])
            else:  # the way out of the folder: one prefix per folder above it (relative_url)
                for folder, up in up_from:
                    if piece.startswith(folder):
                        out += ('="', up, piece[len(folder) :])
                        break
        else:
            out += (marker, piece)
        at += site + len(piece)
        previous = piece
    return "".join(out)


@lru_cache(maxsize=256)
def _up_from(parent: str) -> tuple[tuple[str, str], ...]:
    """The folders above a page in ``parent`` (it included), each with the way up to it."""
    chain, up = [], "../"
    folder = parent
    while True:
        chain.append((folder, up))
        if not folder:
            return tuple(chain)
        folder = folder[: folder.rfind("/", 0, -1) + 1]
        up += "../"


@lru_cache(maxsize=8)  # a page asks twice (its body, its table of contents)
def _folders(page_dir: str) -> tuple[str, int, tuple[tuple[str, str], ...]] | None:
    """The page's folder and the folders above it, for :func:`relative_html`'s one pass; None
    where :func:`relative_url` is taken link by link: a folder holding ``?`` or ``#`` (its own
    path would be cut there) or the site root (every target is below it)."""
    if not page_dir or not page_dir.endswith("/") or "?" in page_dir or "#" in page_dir:
        return None
    return page_dir, len(page_dir), _up_from(page_dir[: page_dir.rfind("/", 0, -1) + 1])


def _down(down: str) -> str:
    """A target below the page's own folder, as :func:`relative_url` writes it from there."""
    if not down:
        return "./"
    first = down[0]
    if first == "?" or first == "#":
        return down
    if first == "/":
        return "./" + down
    colon = down.find(":")
    if colon != -1:  # "a:b" would read as a scheme: is the colon in the first segment?
        cut = len(down)
        for mark in ("/", "?", "#"):
            at = down.find(mark, 0, cut)
            if at != -1:
                cut = at
        if colon < cut:
            return "./" + down
    return down


def _relative_html_each(html: str, at: int, marker: str, page_dir: str) -> str:
    """:func:`relative_html` with :func:`relative_url` asked for each link (any page folder)."""
    # A link to a place on this page (the table of contents, footnotes) is its fragment alone
    # (what relative_url gives, when the page's folder holds no "?" or "#" of its own).
    here = page_dir + "#" if "?" not in page_dir and "#" not in page_dir else None
    site = len(marker)
    parts: list[str] = []
    done = 0
    while at != -1:
        end = html.find('"', at + 2)
        if end == -1:
            break
        if (at >= 7 and html.startswith("<a href", at - 7)) or _in_href_or_src(html, at):
            if here is not None and html.startswith(here, at + site):
                relative = html[at + site + len(page_dir) : end]
            else:
                relative = relative_url(page_dir, html[at + site : end])
            parts += (html[done : at + 2], relative)
            done = end
        at = html.find(marker, end)
    parts.append(html[done:])
    return "".join(parts)


def _in_href_or_src(html: str, at: int) -> bool:
    """Whether ``="`` at ``at`` opens the value of an ``href`` or ``src`` attribute."""
    tag = html.rfind("<", 0, at)
    # nh3 writes one space before each attribute: the value belongs to an href or a src
    return (
        (html.endswith(" href", tag, at) or html.endswith(" src", tag, at))
        and html.rfind(">", 0, at) < tag
        and html.count('"', tag, at) % 2 == 0
    )
