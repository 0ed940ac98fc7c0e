"""The fast path's string scans give what the regex searches they stand for give.

Several steps of the fast path used ``re`` searches that try every position of their text
(a lookbehind or an ``^``/``(?:^|\\n)`` first): emphasis runs, rules, hash headings, blank
lines of spaces, fence placeholders, character references. They are now ``str`` methods and
loops. Each is compared here with the regex it replaced (kept below as the reference), over
the lines and blocks of real inputs (example content, tests/data/markdown_wider, of which the
dense corpus is made, bench corpora with two seeds) and over hypothesis-generated hostile text;
each was mutation-checked (the scan broken on purpose fails here). The shortcuts that skip
a step (links joined directly, heading ids without ``unique``) are in
``tests/test_markdown_fast_direct.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.reading import markdown_fast
from pipeline.reading.markdown_fast_blocks import (
    HASH_HEADER,
    HR,
    OLIST,
    SETEXT_UNDERLINE,
    ULIST,
    _rule,
    hash_heading,
    parse_general,
)
from pipeline.reading.markdown_fast_inline import (
    Decline,
    _asterisk_runs,
    _underscore_runs,
)
from pipeline.reading.markdown_fast_library import FENCED_BLOCK_RE, fence_matches
from tests.test_markdown_fast_shortcuts import _real_texts

REAL = _real_texts()
WIDER = Path(__file__).resolve().parent / "data" / "markdown_wider"


def _outcome(function, *args) -> object:
    try:
        return function(*args)
    except Decline:
        return Decline


# --- emphasis runs -------------------------------------------------------------------------

_WORD = re.compile(r"\w")


def _regex_runs(text: str, char: str, smart: bool) -> list[tuple[int, int, bool, bool]]:
    """The runs as the fast path found them with ``re`` before (``\\*+`` / ``_+`` and ``\\w``)."""
    runs = []
    for run in re.finditer(re.escape(char) + "+", text):
        start, end = run.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        opens = bool(after) and not after.isspace()
        closes = bool(before) and not before.isspace()
        if smart:
            opens = opens and not (before and _WORD.match(before))
            closes = closes and not (after and _WORD.match(after))
        runs.append((start, end, closes, opens))
    return runs


def assert_runs_agree(text: str) -> None:
    assert _asterisk_runs(text) == _regex_runs(text, "*", False), repr(text)
    assert _underscore_runs(text) == _regex_runs(text, "_", True), repr(text)


def test_word_characters_are_isalnum_or_underscore() -> None:
    """re's ``\\w`` is what the run scan asks of a neighbour, on every code point."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    by_regex = set(re.findall(r"\w", everything))
    assert by_regex == {char for char in everything if char.isalnum() or char == "_"}


def test_runs_agree_on_real_texts() -> None:
    for text in REAL:
        assert_runs_agree(text)


RUN_ALPHABET = st.sampled_from(
    ["*", "_", "**", "__", " ", "a", "é", "1", "²", "\u00a0", "\n", "\x02", ".", "\u3000"]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(RUN_ALPHABET, max_size=30).map("".join))
def test_runs_agree_on_generated_text(text: str) -> None:
    assert_runs_agree(text)


# --- hash headings and rules ---------------------------------------------------------------


def _regex_heading(line: str) -> tuple[int, str]:
    match = HASH_HEADER.search(line)
    assert match is not None and match.span() == (0, len(line)), repr(line)
    return len(match.group("level")), match.group("header")


def assert_heading_agrees(line: str) -> None:
    if line.startswith("#") and "\n" not in line and "\\" not in line:
        assert hash_heading(line) == _regex_heading(line), repr(line)


def assert_rule_agrees(block: str) -> None:
    found, expected = _rule(block, block.split("\n")), HR.search(block)
    assert (found and found.span()) == (expected and expected.span()), repr(block)


def test_headings_and_rules_agree_on_real_texts() -> None:
    for text in REAL:
        assert_heading_agrees(text)
        assert_rule_agrees(text)


HEADING_PIECES = st.sampled_from(
    ["#", "##", "####", "#######", " ", "a", "Å", "\u00a0", "\t", "*", "-", "|", "²"]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(HEADING_PIECES, max_size=20).map(lambda pieces: "#" + "".join(pieces)))
def test_headings_agree_on_generated_lines(line: str) -> None:
    assert_heading_agrees(line)


RULE_PIECES = st.sampled_from(["-", "_", "*", "---", "* * *", " ", "   ", "    ", "\n", "a", "- a", "\u00a0"])


@settings(max_examples=800, deadline=None)
@given(st.lists(RULE_PIECES, max_size=20).map("".join))
def test_rules_agree_on_generated_blocks(block: str) -> None:
    assert_rule_agrees(block)


LIST_PIECES = st.sampled_from([" ", "   ", "1", "٣", "²", ".", "*", "+", "-", "=", "a", "\n", "\u00a0"])


@settings(max_examples=800, deadline=None)
@given(st.lists(LIST_PIECES, min_size=1, max_size=12).map("".join))
@example("a\n-")
@example("a\n==")
def test_first_character_checks_never_skip_a_match(block: str) -> None:
    """parse_general asks the list and setext regexes only after a first-character check."""
    first = block[0]
    if OLIST.match(block):
        assert first == " " or first.isdigit(), repr(block)
    if ULIST.match(block):
        assert first in " *+-", repr(block)
    line = block.split("\n")[0]
    if SETEXT_UNDERLINE.match(line):
        assert line[:1] in ("=", "-"), repr(block)


@settings(max_examples=300, deadline=None)
@given(st.lists(LIST_PIECES, min_size=1, max_size=12).map("".join))
@example(" 1. a")
@example("   ٣. a\n   4. b")
@example("  - a")
def test_indented_lists_still_reach_the_list_processors(block: str) -> None:
    """A block with leading spaces (parse_block never passes one) is still read as a list."""
    out: list = []
    try:
        parse_general(block, out, [])
    except Decline:
        return
    if OLIST.match(block) or (ULIST.match(block) and not HR.search(block)):
        assert out and not isinstance(out[0], str), repr(block)


@pytest.mark.parametrize("text", ["[a]: b", "x [a]: http://e.org", "[^1]: note", "[a](x]:y)"])
def test_a_definition_declines_in_every_block_shape(text: str) -> None:
    """The "]:" checks (asked after a ":" was found) still see a definition where it is."""
    from pipeline.reading.markdown_fast_blocks import _plain_item, parse_block

    assert _outcome(_plain_item, text) is Decline
    assert _outcome(parse_block, text, [], []) is Decline
    assert _outcome(parse_general, text + "\nmore", [], []) is Decline


# --- whole-body steps ----------------------------------------------------------------------

_OLD_BLANK_LINE = re.compile(r"(?<=\n) +\n")
_OLD_FENCE_PLACEHOLDER = re.compile("<p>\x02f([0-9]+)\x03</p>|\x02f([0-9]+)\x03")
_CHARREF = re.compile(r"&#(?:[0-9]+|[xX][0-9a-fA-F]+);")


def _regex_swap(html: str, codes: list[str]) -> tuple[str, bool]:
    vouched = True

    def swap(match: re.Match[str]) -> str:
        nonlocal vouched
        if match.group(2) is not None:
            vouched = False
        return codes[int(match.group(1) or match.group(2))]

    return _OLD_FENCE_PLACEHOLDER.sub(swap, html), vouched


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(["\n", " ", "  ", "a", "\n\n", " \n"]), max_size=30).map("".join))
def test_blank_lines_agree(body: str) -> None:
    text = body + "\n\n"
    assert markdown_fast._BLANK_LINE.sub("\n", text) == _OLD_BLANK_LINE.sub("\n", text)


def test_blank_lines_agree_on_real_texts() -> None:
    for text in REAL:
        text += "\n\n"
        assert markdown_fast._BLANK_LINE.sub("\n", text) == _OLD_BLANK_LINE.sub("\n", text)


PLACEHOLDERS = [f"\x02f{number}\x03" for number in range(3)]
HTML_PIECES = st.sampled_from(["<p>", "</p>", "<p", "p>", "</", "x", "\n", *PLACEHOLDERS])


@settings(max_examples=800, deadline=None)
@given(st.lists(HTML_PIECES, max_size=25).map("".join))
def test_fence_swap_agrees(html: str) -> None:
    codes = ["<pre><code>a\n</code></pre>", "<pre><code>&lt;p&gt;</code></pre>", "<pre>2</pre>"]
    assert markdown_fast._swap_fences(html, codes) == _regex_swap(html, codes), repr(html)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["&", "#", "&#", "1", "x", "X", "f", ";", "a", " "]), max_size=20).map("".join)
)
def test_character_reference_check_agrees(text: str) -> None:
    expected = text.count("&#") != len(_CHARREF.findall(text))
    assert markdown_fast._charrefs_incomplete(text) == expected, repr(text)


def _matches(found) -> list[tuple[tuple[int, int], dict]]:
    return [(match.span(), match.groupdict()) for match in found]


def assert_fences_agree(text: str) -> None:
    assert _matches(fence_matches(text)) == _matches(FENCED_BLOCK_RE.finditer(text)), repr(text)


def test_fences_agree_on_real_documents() -> None:
    from tests.test_markdown_fast import _fixture_strings

    documents = [*REAL, *_fixture_strings()]
    documents += [path.read_text(encoding="utf-8") for path in sorted(WIDER.glob("*.md"))]
    assert sum("```" in document or "~~~" in document for document in documents) > 20
    for document in documents:
        assert_fences_agree(document)


FENCE_PIECES = ["```", "~~~", "````", "`", "~", "\n", "\n\n", " ", "python", "{.x}", "a", "x```", '"', "é"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(FENCE_PIECES), max_size=25).map("".join))
def test_fences_agree_on_generated_documents(text: str) -> None:
    assert_fences_agree(text)
