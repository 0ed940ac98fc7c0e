"""Old HTML → clean Markdown: sanitised with nh3 first, then converted with markdownify.

Sanitising first (with the allow-list every published page uses, :mod:`pipeline.reading.sanitize`)
means no script, style, event handler or ``javascript:`` URL can reach the content folder, and
every relative URL is made absolute against the item's own page on the old site. markdownify
then turns what is left into Markdown; text that looks like markup (``<script>`` written as
text) is escaped, so the Markdown renderer shows it as text instead of reading it as HTML.

WordPress stores posts without ``<p>``: blank lines are paragraphs, single newlines line
breaks (its ``wpautop``), plus shortcodes. Both are handled here for WXR content.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from markdownify import ATX, MarkdownConverter

from pipeline.reading import sanitize

_BLOCK_START = re.compile(
    r"^<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|table|thead|tbody|tr|td|th|figure|figcaption|hr|dl|dt|dd|"
    r"section|article|aside|header|footer|address|!--)[\s>/]",
    re.I,
)
_PRE = re.compile(r"<pre\b.*?</pre>", re.I | re.S)
_EMBED = re.compile(r"\[embed[^\]]*\]\s*(https?://[^\s\[]+)\s*\[/embed\]", re.I)
_WRAPPING_SHORTCODE = re.compile(r"\[/?(?:caption|wp_caption)\b[^\]]*\]", re.I)
_DROPPED_SHORTCODE = re.compile(
    r"\[(gallery|video|audio|playlist|contact-form-7|contact-form|contact-field)\b[^\]]*\]"
    r"(?:.*?\[/\1\])?",
    re.I | re.S,
)
_ENTITY_LIKE = re.compile(r"&(#?[A-Za-z0-9]+;)")
# Embedded players and maps: nh3 removes them; a link to what they showed is kept instead.
_EMBEDDED = re.compile(
    r"<(iframe|video|audio|embed)\b[^>]*?\ssrc\s*=\s*[\"']?(https?://[^\"'\s>]+)[^>]*>(?:.*?</\1\s*>)?",
    re.I | re.S,
)


@dataclass(frozen=True)
class Converted:
    markdown: str
    images: tuple[str, ...]  # absolute URLs of the images, in order
    notes: tuple[str, ...]  # what a human should look at


class _Converter(MarkdownConverter):
    def escape(self, text: str, parent_tags) -> str:  # type: ignore[override]
        text = super().escape(text, parent_tags)
        # Python-Markdown reads "<tag" as raw HTML and "&name;" as an entity: keep both text.
        return _ENTITY_LIKE.sub(r"&amp;\1", text).replace("<", "&lt;")


def wordpress_paragraphs(text: str) -> str:
    """WordPress's ``wpautop`` in small: blank-line paragraphs and newline breaks become HTML."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    protected = _PRE.sub(keep, text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = []
    for chunk in re.split(r"\n\s*\n", protected):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_START.match(chunk) or chunk.startswith("\x00"):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    joined = "\n\n".join(blocks)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], joined)


def wordpress_shortcodes(text: str) -> tuple[str, list[str]]:
    """Shortcodes resolved where they have an HTML meaning, removed (and reported) otherwise."""
    notes = []
    text = _EMBED.sub(lambda m: f'<p><a href="{m.group(1)}">{m.group(1)}</a></p>', text)
    text = _WRAPPING_SHORTCODE.sub("", text)
    for name in sorted({m.group(1).lower() for m in _DROPPED_SHORTCODE.finditer(text)}):
        notes.append(f"WordPress [{name}] shortcode removed: add its content by hand")
    return _DROPPED_SHORTCODE.sub("", text), notes


def to_markdown(
    html: str,
    base: str | None,
    wordpress: bool = False,
    image_url: Callable[[str], str] | None = None,
) -> Converted:
    """``html`` from the old site as Markdown; ``image_url`` may replace each image's address."""
    notes: list[str] = []
    if wordpress:
        html, shortcode_notes = wordpress_shortcodes(html)
        notes += shortcode_notes
        html = wordpress_paragraphs(html)
    embedded = [m.group(2) for m in _EMBEDDED.finditer(html)]
    html = _EMBEDDED.sub(lambda m: f'<p><a href="{m.group(2)}">{m.group(2)}</a></p>', html)
    notes += [f"embedded player or map replaced by a link: {unescape(u)}" for u in dict.fromkeys(embedded)]
    dropped: list[str] = []

    def resolve(url: str) -> str | None:
        if base and urlsplit(base).scheme in ("http", "https"):
            return urljoin(base, url)
        if url.startswith("//"):
            return "https:" + url
        dropped.append(url)
        return None

    clean = sanitize.clean_html(html, resolve)
    if dropped:
        notes.append(
            f"relative links without a known base address removed: {', '.join(sorted(set(dropped)))}"
        )
    soup = BeautifulSoup(clean, "html.parser")
    for tag in soup.find_all(href=True):
        tag["href"] = _markdown_safe_url(tag["href"])
    for tag in soup.find_all(src=True):
        tag["src"] = _markdown_safe_url(tag["src"])
    images = []
    for img in soup.find_all("img"):
        src = img.get("src")
        if not src or (img.get("width") in ("0", "1") and img.get("height") in ("0", "1")):
            img.decompose()  # no picture, or a tracking pixel (Feedburner adds one to every item)
            continue
        images.append(src)
        if image_url is not None:
            img["src"] = image_url(src)
        if not img.get("alt"):
            notes.append(f"image without alt text: {src}")
    converter = _Converter(heading_style=ATX, bullets="-", newline_style="backslash", autolinks=True)
    markdown = _tidy(converter.convert_soup(soup))
    return Converted(markdown + "\n" if markdown else "", tuple(dict.fromkeys(images)), tuple(notes))


def _markdown_safe_url(url: str) -> str:
    """``url`` with ``<`` and ``>`` percent-encoded, as a browser sends them.

    No valid URL holds them raw (RFC 3986), but HTML serialises them raw inside an attribute,
    and markdownify copies the attribute into ``[text](url)``: a mangled
    ``href="jav<script:…"`` would put ``<script`` into the content folder, where an author
    reads it as a script and a renderer that allows raw HTML might too.
    """
    return url.replace("<", "%3C").replace(">", "%3E")


def _tidy(markdown: str) -> str:
    """Trailing spaces, runs of blank lines and dangling hard breaks removed.

    ``<br><br>`` (Blogger's paragraphs) converts to a line holding only ``\\``, and a break at
    the end of a paragraph to a trailing ``\\``: Markdown would show both as a backslash.
    """
    lines = [line.rstrip() for line in markdown.strip().split("\n")]
    in_code, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        in_code.append(fenced or line.startswith("```"))
    for index, line in enumerate(lines):
        if not in_code[index] and line == "\\":
            lines[index] = ""
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not in_code[index] and line.endswith("\\") and not line.endswith("\\\\") and not following.strip():
            lines[index] = line[:-1].rstrip()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
