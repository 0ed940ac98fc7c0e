"""Making author HTML safe to publish, with nh3 (the Ammonia sanitizer).

Everything the pipeline publishes (pages, feeds, snippets, email) passes through here: no script,
style, iframe, event handler, ``javascript:`` or ``data:`` URL survives, and every relative URL is
rewritten to an absolute one by a resolver the caller supplies (so feed readers and partner sites,
which do not know our base URL, never see a broken relative link).
"""

from __future__ import annotations

import html as html_lib
import re
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from pipeline.reading.sanitize_fast import FastCleaner
from pipeline.reading.sanitize_fast_text import text_of

if TYPE_CHECKING:
    import nh3  # imported by the cleaners below, each made once, when first needed

URL_SCHEMES = {"http", "https", "mailto", "tel"}
CLEAN_CONTENT = {"script", "style", "iframe", "noscript", "template", "svg", "math", "object"}

CONTENT_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
}
CONTENT_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
    "code": {"class"},
    "*": {"id", "lang"},
}
EXCERPT_TAGS = {"p", "a", "em", "strong", "ul", "ol", "li"}
EXCERPT_ATTRIBUTES = {"a": {"href"}}

UrlResolver = Callable[[str], "str | None"]


# nh3 builds its allow-lists from the Python sets on every ``nh3.clean`` call (~25 µs, a
# quarter of cleaning a whole update); reusable Cleaners build them once per process.
_resolving = threading.local()  # the resolver of the clean_html call running in this thread


def _resolve_relative(url: str) -> str | None:
    return _resolving.resolve(url)


@cache
def _content_cleaner(url_relative: str | Callable[[str], str | None]) -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=CONTENT_TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=CONTENT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative=url_relative,
        link_rel=None,
        strip_comments=True,
    )


@cache
def _excerpt_cleaner() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=EXCERPT_TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=EXCERPT_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel="noopener",
    )


@cache
def _text_cleaner() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(tags=set(), clean_content_tags=CLEAN_CONTENT)


# nh3's own result for the HTML Markdown writes, made without nh3 (55–80 µs a call against
# nh3's 85–90 on the bench corpus); anything else it declines, before calling the resolver,
# and nh3 cleans it.
_fast_cleaner = FastCleaner(CONTENT_TAGS, CONTENT_ATTRIBUTES, URL_SCHEMES)


def clean_html(raw_html: str, resolve: UrlResolver, vouched: bool = False) -> str:
    """Sanitize rendered Markdown for publishing; ``resolve`` turns relative URLs absolute.

    ``vouched``: the fast Markdown path wrote ``raw_html`` and vouches for its nesting
    (``Rendered.vouched``), so the fast cleaner skips checking it (a sixth of a cold build's
    finishing); it still declines, before any resolver call, whatever it would decline.
    """
    if vouched:
        fast = _fast_cleaner.clean_vouched(raw_html, resolve)
        if fast is not None:
            return fast
    fast = _fast_cleaner.clean(raw_html, resolve)
    if fast is not None:
        return fast
    return nh3_clean_html(raw_html, resolve)


def nh3_clean_html(raw_html: str, resolve: UrlResolver) -> str:
    """:func:`clean_html` by nh3 alone: the definition the fast cleaner reproduces."""
    previous = getattr(_resolving, "resolve", None)
    _resolving.resolve = resolve
    try:
        return _content_cleaner(_resolve_relative).clean(raw_html)
    finally:
        _resolving.resolve = previous


# Characters XML 1.0 forbids, plus C1 controls and U+FFFD that validators flag as mis-decoded
# text; they carry no meaning in an update, and one of them would make a feed unparseable.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufffe\uffff]")


_UNSAFE_LIST = tuple(
    chr(code)
    for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xFFFD, 0xFFFE, 0xFFFF)
)


_SHORT_TEXT = 200  # characters; below it the regex is cheaper than the memchr scans


def clean_text(value: str) -> str:
    """``value`` without characters that XML forbids or validators treat as encoding damage."""
    # One ``in`` per character is a memchr: the regex's character-class scan costs several
    # times more over a whole page, and almost no page holds any of them. A short text (a title,
    # a tag: most of a cold build's ~97,000 calls) is the other way round: one regex scan costs
    # less than the 65 ``in`` tests.
    if len(value) < _SHORT_TEXT:
        return _UNSAFE_CHARS.sub("", value) if _UNSAFE_CHARS.search(value) else value
    for char in _UNSAFE_LIST:
        if char in value:
            return _UNSAFE_CHARS.sub("", value)
    return value


def stable_html(clean: str, markdown_source: str) -> str:
    """Sanitized HTML normalized until it re-parses to itself (at most 3 more passes), for feeds.

    Feed validators parse content strictly, as HTML5. One sanitizer pass over a tree that a
    removed wrapper left mis-nested (``<p><div>``) can give markup that parses differently, so
    the pass is repeated until nothing changes; relative URLs are dropped as a second line of
    defence. That repetition is only ever needed for raw HTML: Markdown without a ``<`` gives
    only Markdown's own, properly nested elements, whose sanitized form is already stable
    (``tests/test_sanitize.py`` checks this on thousands of generated documents), so such
    updates skip the extra pass, a sixth of a cold build's sanitizing.
    """
    current = clean_text(clean)
    if "<" not in markdown_source and current == clean:
        return clean
    for _ in range(3):
        cleaned = _content_cleaner("deny").clean(current)
        if cleaned == current:
            break
        current = cleaned
    return current


def excerpt_html(clean: str, max_chars: int = 600) -> str:
    """A short HTML excerpt for partner sites: the first blocks, tags from a small allow-list.

    Input must already be absolute (from :func:`clean_html`); relative URLs are dropped here.
    """
    chosen: list[str] = []
    size = 0
    for match in re.finditer(r"<(p|ul|ol)\b[^>]*>.*?</\1>", clean, flags=re.S):
        block = match.group(0)
        if chosen and size + len(block) > max_chars:
            break
        chosen.append(block)
        size += len(block)
        if size >= max_chars:
            break
    return _excerpt_cleaner().clean("\n".join(chosen))


def plain_text(html_fragment: str) -> str:
    """Text content of an HTML fragment, whitespace collapsed, entities decoded."""
    text = text_of(html_fragment)  # the same text without nh3, for plain inline markup
    return " ".join(text.split()) if text is not None else nh3_plain_text(html_fragment)


def nh3_plain_text(html_fragment: str) -> str:
    """:func:`plain_text` by nh3 alone: the definition the shortcut reproduces."""
    stripped = _text_cleaner().clean(html_fragment)
    return " ".join(html_lib.unescape(stripped).split())


_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", flags=re.S)


def first_paragraph_text(clean: str) -> str:
    """The text of the first paragraph of cleaned HTML (of all of it when it has none)."""
    return plain_text(_first_paragraph(clean))


def _first_paragraph(clean: str) -> str:
    # Cleaned HTML writes a paragraph "<p>": when the first "<p" is one and a "</p>" follows, the
    # expression's first match is there (no match can start before the first "<p"), found by two
    # str.find instead of its lazy scan, which tries "</p>" at every character of the paragraph.
    start = clean.find("<p")
    if start >= 0 and clean[start + 2 : start + 3] == ">":
        end = clean.find("</p>", start + 3)
        if end >= 0:
            return clean[start + 3 : end]
    match = _FIRST_PARAGRAPH.search(clean)
    return match.group(1) if match else clean


def summary_text(clean: str, limit: int = 300) -> str:
    """``shorten(first_paragraph_text(clean), limit)``: an update's summary when it gives none.

    :func:`plain_text` collapses the whitespace already, so :func:`shorten`'s own collapsing
    (a split and a join of the whole paragraph) is skipped.
    """
    return _shortened(first_paragraph_text(clean), limit)


def shorten(text: str, limit: int = 300) -> str:
    """Cut at a word boundary so the result, with its ellipsis, is at most ``limit`` characters."""
    return _shortened(" ".join(text.split()), limit)


def _shortened(text: str, limit: int) -> str:
    """:func:`shorten` of text whose whitespace is collapsed already."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.–-") + "…"
