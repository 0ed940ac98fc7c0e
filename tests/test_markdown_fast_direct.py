"""The fast path's shortcuts past a step give what the step gives.

Links whose surrounding text needs no later inline phase are joined with it directly instead of
through placeholders: :class:`GeneralRenderer` below is the placeholder way (the library's),
and both must agree. A heading id new to the document skips ``unique``, a name without "&"
skips ``unescape``, and ASCII text skips ``slugify``'s NFKD: :func:`_reference_ids` and
:func:`_full_slugify` take the full way. Compared over the lines and blocks of real inputs
(``tests.test_markdown_fast_shortcuts._real_texts``) and over hypothesis-generated hostile
text; each shortcut was mutation-checked (broken on purpose, it fails here).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.reading.markdown_fast_inline import _LINK, STX, Decline, InlineRenderer, _attr
from pipeline.reading.slugs import slugify
from tests.test_markdown_fast_shortcuts import _real_texts
from tests.test_markdown_prefilter import TOKENS

REAL = _real_texts()


def _outcome(function, *args) -> object:
    try:
        return function(*args)
    except Decline:
        return Decline


# --- links joined directly -----------------------------------------------------------------


class GeneralRenderer(InlineRenderer):
    """The link phase the placeholder way (the library's): every link stashed, later phases run."""

    __slots__ = ()

    def _links(self, text: str) -> str:
        out: list[str] = []
        position = 0
        for match in _LINK.finditer(text):
            before = text[position : match.start()]
            if "[" in before or "]" in before:
                raise Decline
            label, url, title = match.groups()
            title_attr = f' title="{_attr(title)}"' if title is not None else ""
            if before[-1:] == "!":
                before = before[:-1]
                if STX in label:
                    raise Decline
                html = f'<img alt="{_attr(label)}" src="{_attr(url)}"{title_attr}>'
            else:
                html = f'<a href="{_attr(url)}"{title_attr}>{self._finish(self._rest(label))}</a>'
            out.append(before)
            out.append(self._put(html))
            position = match.end()
        rest = text[position:]
        if "[" in rest or "]" in rest:
            raise Decline
        out.append(rest)
        return self._finish(self._rest("".join(out)))


def assert_links_agree(text: str) -> None:
    assert _outcome(InlineRenderer().render, text) == _outcome(GeneralRenderer().render, text), repr(text)


def test_links_agree_on_real_texts() -> None:
    for text in REAL:
        assert_links_agree(text)


LINK_PIECES = [
    "[a](b.md)",
    "[a & b](x?y=1&z=2)",
    '[t](u "T > &amp; x")',
    "![alt > & x](i.png)",
    '![a](b.png "t")',
    "[*em*](x)",
    "[a  \nb](x)",
    "[`c`](x)",
    "[\\*](x)",
    "[",
    "]",
    "(",
    ")",
    "!",
    "&",
    "&amp;",
    ">",
    "*",
    "_",
    "  \n",
    " ",
    "  ",
    "\n",
    "x",
    "`k`",
    "\\_",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(LINK_PIECES), max_size=14).map("".join))
def test_links_agree_on_generated_text(text: str) -> None:
    assert_links_agree(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, *LINK_PIECES]), max_size=20).map("".join))
def test_links_agree_on_token_soup(text: str) -> None:
    assert_links_agree(text)


# --- heading ids ---------------------------------------------------------------------------


# slugify's first definition: a translate table, always NFKD, always the regex.
_FULL_TRANSLITERATE = str.maketrans(
    {"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "ß": "ss", "þ": "th", "ð": "d"}
)


def _full_slugify(text: str, separator: str = "-") -> str:
    """slugify without its shortcuts: the translate table, NFKD, the ASCII encoding, the regex."""
    import re
    import unicodedata

    lowered = text.lower().translate(_FULL_TRANSLITERATE)
    ascii_text = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", separator, ascii_text).strip(separator)


# Titles made of what the shortcuts decide on: words, digits, every kind of white space, the
# transliterated letters, letters NFKD turns into capitals or digits, separators and punctuation.
SLUG_ALPHABET = st.sampled_from(
    [
        *"abzAZ09 -_.",
        *"åäöÅÄÖæøßþðÆØÞÐéÉü",
        *"\t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u2003\u3000",
        "🄰",  # NFKD: "A"
        "\u212a",  # Kelvin sign: lower() gives "k"
        "İ",  # lower() gives "i" and a combining dot
        "²",  # NFKD: "2"
        "ﬁ",  # NFKD: "fi"
        "Ⅷ",
        "ǅ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(SLUG_ALPHABET, st.just(" "), st.just("ord")), max_size=12).map("".join),
    st.sampled_from(["-", "_", "a", "--", ""]),
)
def test_slugify_agrees_with_the_full_conversion_on_tricky_titles(text: str, separator: str) -> None:
    assert slugify(text, separator) == _full_slugify(text, separator)


@pytest.mark.parametrize(
    "text",
    [
        "Bakgrund Målgrupp",
        "  Två  ord\t",
        "🄰bc",
        "a 🄰 b",
        "Öl & bröd",
        "x\u2003y",
        "ǅ ²",
        "",
        " - ",
        "a-b",
        "A1 b2",
    ],
)
def test_slugify_agrees_by_hand(text: str) -> None:
    for separator in ("-", "_", "a"):
        assert slugify(text, separator) == _full_slugify(text, separator)


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["-", "_"]))
def test_slugify_agrees_with_the_full_conversion(text: str, separator: str) -> None:
    assert slugify(text, separator) == _full_slugify(text, separator)


def test_slugify_agrees_on_real_lines() -> None:
    for text in REAL:
        assert slugify(text) == _full_slugify(text)


def _reference_ids(inners: list[str]) -> list[str]:
    """Heading ids as the toc extension gives them: ``unique`` asked for every heading."""
    import html as html_lib

    from pipeline.reading.markdown_fast_library import strip_tags, unique

    used: set[str] = set()
    counters: dict[str, int] = {}
    ids = []
    for inner in inners:
        name = strip_tags(inner) if "<" in inner else " ".join(inner.split())
        ids.append(unique(slugify(html_lib.unescape(name), "-"), used, counters))
    return ids


HEADING_NAMES = st.sampled_from(
    ["a", "a_1", "a_2", "A", "", " ", "&amp;", "&#246;", "&", "_", "<code>x</code>", "ö", "-", "1"]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.lists(HEADING_NAMES, max_size=3).map("".join), max_size=12))
def test_heading_ids_agree_with_unique_for_every_heading(inners: list[str]) -> None:
    from pipeline.reading.markdown_fast import _name_headings
    from pipeline.reading.markdown_fast_blocks import Heading

    headings = [Heading(2, inner) for inner in inners]
    _name_headings(headings)
    assert [heading.id for heading in headings] == _reference_ids(inners)
