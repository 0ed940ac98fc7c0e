"""The fast path's copies of Python-Markdown helpers are the library's own, on hostile inputs.

``pipeline.reading.markdown_fast_library`` copies a few regexes and functions so that a build
whose bodies all take the fast path never imports ``markdown`` (nor pygments). Each copy is
compared here with the installed library: the regexes by pattern and flags, the functions by
their results on generated inputs (tags, comments, entities, duplicate ids, level orders).
"""

from __future__ import annotations

import copy

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown import inlinepatterns, serializers
from markdown.extensions import fenced_code, toc

from pipeline.reading import markdown_fast_library as ours


def test_the_version_is_the_librarys() -> None:
    assert markdown.__version__ == ours.MARKDOWN_VERSION


def test_the_regexes_are_the_librarys() -> None:
    theirs = fenced_code.FencedBlockPreprocessor.FENCED_BLOCK_RE
    assert (ours.FENCED_BLOCK_RE.pattern, ours.FENCED_BLOCK_RE.flags) == (theirs.pattern, theirs.flags)
    assert (ours.RE_AMP.pattern, ours.RE_AMP.flags) == (serializers.RE_AMP.pattern, serializers.RE_AMP.flags)
    assert ours.HTML_RE == inlinepatterns.HTML_RE
    assert (ours.IDCOUNT_RE.pattern, ours.IDCOUNT_RE.flags) == (toc.IDCOUNT_RE.pattern, toc.IDCOUNT_RE.flags)


PIECES = [
    "<b>",
    "</b>",
    "<a href='x'>",
    '<img alt="a>b" src=x>',
    "<br/>",
    "<!-- c -->",
    "<!-- <b> -->",
    "<!--",
    "-->",
    "<?pi?>",
    "<![CDATA[x]]>",
    "<",
    ">",
    "&",
    "&amp;",
    "&#169;",
    "&#x3C;",
    "&ingen;",
    '"',
    "'",
    "@",
    " ",
    "\n",
    "\t",
    "\u00a0",
    "ord",
    "Å",
    "_1",
    "_",
    "2",
]
hostile = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


@settings(max_examples=600, deadline=None)
@given(hostile)
def test_the_escaping_and_tag_stripping_are_the_librarys(text: str) -> None:
    assert ours.escape_attrib_html(text) == serializers._escape_attrib_html(text)
    assert ours.strip_tags(text) == toc.strip_tags(text)


ids = st.lists(st.sampled_from(["a", "a_1", "a_2", "a_3", "b", "", "_1", "a_x", "a_10", "b_1"]), max_size=12)


@settings(max_examples=400, deadline=None)
@given(ids, st.booleans())
def test_unique_ids_are_the_librarys(wanted: list[str], with_counters: bool) -> None:
    mine: set[str] = set()
    theirs: set[str] = set()
    my_counters: dict[str, int] | None = {} if with_counters else None
    their_counters: dict[str, int] | None = {} if with_counters else None
    for name in wanted:
        assert ours.unique(name, mine, my_counters) == toc.unique(name, theirs, their_counters)
    assert (mine, my_counters) == (theirs, their_counters)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.integers(1, 6), max_size=12))
def test_nested_tokens_are_the_librarys(levels: list[int]) -> None:
    tokens = [{"level": level, "id": f"h{i}", "name": str(i)} for i, level in enumerate(levels)]
    assert ours.nest_toc_tokens(copy.deepcopy(tokens)) == toc.nest_toc_tokens(copy.deepcopy(tokens))
