"""A fast path that renders common update Markdown exactly as Python-Markdown would, or declines.

Python-Markdown defines what Markdown means here (tables, fenced_code, footnotes, attr_list, toc
with our slugify, sane_lists). Its generality costs about 1.9 ms per update, most of it in trying
every inline pattern on every run of text. Most updates use a small part of the dialect:
paragraphs, ATX and setext headings, rules, lists (nested too), pipe tables, quotes, fenced
code, ``*``/``_`` emphasis, code spans, inline links and images. :func:`render_fast` renders
documents made only of those with plain string work (:mod:`markdown_fast_blocks`,
:mod:`markdown_fast_inline`, :mod:`markdown_fast_fences`), and returns None for anything else,
so the caller hands the document to the library unchanged. A document that
declines costs only the scan that found the reason, usually its first few checks.

Same HTML, same table of contents, same heading count: ``tests/test_markdown_fast_*.py``
compare the two on the example content, the test fixtures, benchmark corpora and generated
hostile documents.
"""

from __future__ import annotations

import html as html_lib
import re

from pipeline.reading import markdown_fast_fences
from pipeline.reading.markdown_fast_blocks import Heading, Item, ListBlock, Quote, parse_chunk
from pipeline.reading.markdown_fast_inline import ETX, STX, UNSUPPORTED_CHARS, UNSUPPORTED_PAIRS, Decline
from pipeline.reading.markdown_fast_library import MARKDOWN_VERSION, nest_toc_tokens, strip_tags, unique
from pipeline.reading.slugs import slugify

# The Python-Markdown release whose behaviour this module reproduces (its DelimiterProcessor
# emphasis rules, pattern order, toc ids). With any other release the fast path stays off, all
# bodies go through the library, and tests/test_markdown_fast.py says so, for a review.
VERIFIED_WITH = "3.11.3"
ENABLED = MARKDOWN_VERSION == VERIFIED_WITH
TOC_TOP, TOC_BOTTOM = 2, 3  # the toc extension's toc_depth "2-3"
# A line of spaces after a newline, before the next (the step's "(?<=\n) +\n" without its
# lookbehind, which made re try every position of the body).
_BLANK_LINE = re.compile(r"\n +(?=\n)")
# The raw-HTML extractor (Python's html.parser) completes a character reference that lacks its
# ";" (``&#3`` → ``&#3;``), even inside code: only complete ones are left to the fast path.
_CHARREF = re.compile(r"&#(?:[0-9]+|[xX][0-9a-fA-F]+);")
# Common reasons to decline that the parse would only meet late (after most of the work: a
# declined body then costs ~15 % more than the library alone), found first by cheap scans:
# reference links and definitions ("]:" or "]["); indented lines (nested lists, code) are checked
# in render_fast. One search for both: a two-character ``in`` compares at nearly every position
# (about four instructions a character), the regex skips to each "]" and looks at what follows.
_REFERENCE_MARK = re.compile(r"\][:\[]")
_FENCE = STX + "f"  # markdown_fast_fences.PREFIX


def render_fast(body: str) -> tuple[str, str, int] | None:
    """(html, toc html, h2+h3 count) as Python-Markdown would make them, or None to decline."""
    made = render_fast_vouched(body)
    return None if made is None else made[:3]


def render_fast_vouched(body: str) -> tuple[str, str, int, bool] | None:
    """:func:`render_fast`, and whether the HTML is nested as the fast cleaner's grammar wants.

    This module writes a closed set of elements, each where the grammar of
    :mod:`pipeline.reading.sanitize_fast` allows it, with text and attribute values escaped by
    itself; the one exception is a fenced code block that the library's placeholder swap puts
    inside phrasing (a heading, a table cell, a paragraph with other text), where html5ever
    would move it. The flag is False then (see :meth:`FastCleaner.clean_vouched`).
    """
    if not ENABLED or not body.strip():
        return None
    text = body + "\n\n"
    if "\n " in text:  # NormalizeWhitespace empties lines of spaces (not the first line)
        text = _BLANK_LINE.sub("\n", text)
    codes: list[str] = []
    outside = text
    if ("`" in text and "```" in text) or ("~" in text and "~~~" in text):
        # The fenced_code preprocessor runs before any block is parsed; raw HTML, tabs and
        # control characters are seen by the steps before it, so code may not hold them either.
        if _unsupported_anywhere(text):
            return None
        try:
            text, pieces, codes = markdown_fast_fences.extract(text)
        except Decline:
            return None
        outside = "\n\n".join(pieces)
    # Raw HTML, tabs, CR, control characters (placeholders use two), attribute lists,
    # footnotes, the [TOC] marker, code spans next to backslashes or other backticks.
    if _unsupported(outside):
        return None
    nodes: list = []
    try:
        parse_chunk(text, nodes)
        tokens = _name_headings(nodes)
        html = "\n".join([node if type(node) is str else _render(node) for node in nodes]).strip()
    except Decline:
        return None
    vouched = True
    if codes:  # RawHtmlPostprocessor: "<p>placeholder</p>" (or a bare one) becomes the code
        html, vouched = _swap_fences(html, codes)
    count = len(tokens)
    return html, _toc(tokens), count, vouched


def _swap_fences(html: str, codes: list[str]) -> tuple[str, bool]:
    """Each fence placeholder (with the <p> around it, if any) swapped for its code's HTML.

    The same swap as a ``<p>STX f n ETX</p>|STX f n ETX`` substitution, found with ``split``:
    the input holds no STX, so every STX "f" is a placeholder. Also whether all had their
    <p> (a bare one is a <pre> inside phrasing, where html5ever would close or move it).
    """
    parts = html.split(_FENCE)
    out = [parts[0]]
    vouched = True
    for part in parts[1:]:
        end = part.index(ETX)
        tail = part[end + 1 :]
        if out[-1].endswith("<p>") and tail.startswith("</p>"):
            out[-1] = out[-1][:-3]
            tail = tail[4:]
        else:
            vouched = False
        out.append(codes[int(part[:end])])
        out.append(tail)
    return "".join(out), vouched


def _charrefs_incomplete(text: str) -> bool:
    """Whether some "&#" of ``text`` does not start a complete character reference."""
    count = text.count("&#")
    return count != 0 and count != len(_CHARREF.findall(text))


def _unsupported_anywhere(text: str) -> bool:
    """What declines even inside fenced code: what the preprocessors before it would change."""
    for char in UNSUPPORTED_CHARS:
        if char in text and char not in "{}":
            return True
    return "&" in text and _charrefs_incomplete(text)


def _unsupported(body: str) -> bool:
    for char in UNSUPPORTED_CHARS:
        if char in body:
            return True
    for char, needle in UNSUPPORTED_PAIRS:
        if char in body and needle in body:
            return True
    if "]" in body and _REFERENCE_MARK.search(body):
        return True
    return "&" in body and _charrefs_incomplete(body)


def _name_headings(nodes: list) -> list[dict]:
    """Give every heading the toc extension's id; the h2/h3 entries of the table of contents."""
    tokens: list[dict] = []
    used: set[str] = set()
    counters: dict[str, int] = {}
    for heading in _headings(nodes):
        # strip_tags without a "<" only collapses white space
        name = strip_tags(heading.inner) if "<" in heading.inner else " ".join(heading.inner.split())
        slug = slugify(html_lib.unescape(name) if "&" in name else name, "-")  # unescape's own test
        if slug and slug not in used:  # what unique does with a new id
            used.add(slug)
        else:
            slug = unique(slug, used, counters)
        heading.id = slug
        if TOC_TOP <= heading.level <= TOC_BOTTOM:
            tokens.append({"level": heading.level, "id": heading.id, "name": name})
    return tokens


def _headings(nodes: list):
    for node in nodes:
        if isinstance(node, Heading):
            yield node
        elif isinstance(node, Quote):
            yield from _headings(node.children)
        elif isinstance(node, ListBlock):
            for item in node.items:
                if item.children:
                    yield from _headings(item.children)


def _render(node: object) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, Heading):
        return f'<h{node.level} id="{node.id}">{node.inner}</h{node.level}>'
    if isinstance(node, ListBlock):
        start = f' start="{node.start}"' if node.tag == "ol" and node.start != "1" else ""
        items = "".join(map(_item, node.items))
        return f"<{node.tag}{start}>\n{items}</{node.tag}>"
    assert isinstance(node, Quote)
    if not node.children:
        raise Decline
    return "<blockquote>\n" + "\n".join(_render(child) for child in node.children) + "\n</blockquote>"


def _item(item: Item) -> str:
    """A li as the library prettifies it: a newline before block children when it has no text."""
    if not item.children:
        return f"<li>{item.text}</li>\n"
    children = "".join(_render(child) + "\n" for child in item.children)
    return f"<li>{item.text or chr(10)}{children}</li>\n"


def _toc(tokens: list[dict]) -> str:
    """The toc extension's ``md.toc`` for these h2/h3 tokens (its prettified serialization)."""

    def items(entries: list[dict]) -> str:
        out = ["<ul>\n"]
        for entry in entries:
            out.append(f'<li><a href="#{entry["id"]}">{entry["name"]}</a>')
            if entry["children"]:
                out.append(items(entry["children"]))
            out.append("</li>\n")
        out.append("</ul>\n")
        return "".join(out)

    return '<div class="toc">\n' + items(nest_toc_tokens(list(tokens))) + "</div>\n"
