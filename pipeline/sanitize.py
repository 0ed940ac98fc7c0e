"""Making author HTML safe to publish, with nh3 (the Ammonia sanitizer).

Everything the pipeline publishes (pages, feeds, snippets, email) passes through here: no script,
style, iframe, event handler, ``javascript:`` or ``data:`` URL survives, and every relative URL is
rewritten to an absolute one by a resolver the caller supplies (so feed readers and partner sites,
which do not know our base URL, never see a broken relative link).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable

import nh3

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


def clean_html(raw_html: str, resolve: UrlResolver) -> str:
    """Sanitize rendered Markdown for publishing; ``resolve`` turns relative URLs absolute."""
    return nh3.clean(
        raw_html,
        tags=CONTENT_TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=CONTENT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative=resolve,
        link_rel=None,
        strip_comments=True,
    )


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
    return nh3.clean(
        "\n".join(chosen),
        tags=EXCERPT_TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=EXCERPT_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel="noopener",
    )


def plain_text(html_fragment: str) -> str:
    """Text content of an HTML fragment, whitespace collapsed, entities decoded."""
    stripped = nh3.clean(html_fragment, tags=set(), clean_content_tags=CLEAN_CONTENT)
    return " ".join(html_lib.unescape(stripped).split())


def first_paragraph_text(clean: str) -> str:
    match = re.search(r"<p\b[^>]*>(.*?)</p>", clean, flags=re.S)
    return plain_text(match.group(1)) if match else plain_text(clean)


def shorten(text: str, limit: int = 300) -> str:
    """Cut at a word boundary so the result, with its ellipsis, is at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.–-") + "…"
