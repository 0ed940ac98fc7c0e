"""The shape checks' shortcuts never change what they say.

``check_unclosed`` skips its exact per-character pairing when counting every opener as unclosed
already stays within the limits, and skips its per-row checks when no line is indented deeply
enough or names a footnote. Both are claims about bounds; these tests compare the checks with and
without the shortcuts, on generated bodies and with the limits lowered so generated text reaches
them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.reading import markdown_limits

LOW_LIMITS = {
    "PARAGRAPH_SCAN_LIMIT": 120,
    "UPDATE_SCAN_LIMIT": 160,
    "PARAGRAPH_LINE_LIMIT": 12,
    "PARAGRAPH_CHAR_LIMIT": 300,
    "FOOTNOTE_LIMIT": 3,
}

LINE_PARTS = st.sampled_from(
    ["[", "[", "(", "(", "<", "]", ")", ">", "a", "ord ", "[^1]: not", "  ", "\t", "```", "| a | b |", "-"]
)
LINES = st.builds(
    lambda indent, parts: indent + "".join(parts),
    st.one_of(
        st.just(""),
        st.sampled_from([" ", "    ", "\t", " " * 16, " " * 17, "\t" * 16, "\t" * 16 + " ", " " * 70]),
    ),
    st.lists(LINE_PARTS, max_size=30),
)
BODIES = st.lists(st.one_of(LINES, st.just("")), max_size=40).map("\n".join)


def said(body: str) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    markdown_limits.check_unclosed(body, 5, lambda line, message: problems.append((line, message)))
    return problems


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in LOW_LIMITS.items():
        monkeypatch.setattr(markdown_limits, name, value)
    return monkeypatch


@settings(max_examples=400, deadline=None)
@given(body=BODIES)
def test_the_shortcuts_change_no_answer(body: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOW_LIMITS.items():
            patch.setattr(markdown_limits, name, value)
        quick = said(body)
        patch.setattr(markdown_limits, "_within_limits_for_sure", lambda paragraphs: False)
        patch.setattr(markdown_limits, "_surely_within_limits", lambda body: False)
        patch.setattr(markdown_limits, "_deep_indent", lambda body: True)  # every body: check its rows
        exact = said(body)
    assert quick == exact


def test_the_generated_bodies_reach_every_limit(low_limits: pytest.MonkeyPatch) -> None:
    """The property above would pass trivially if no generated body was ever refused."""
    refused = {
        "unclosed": said("[(<" * 40),
        "indent": said("a\n" + "\t" * 16 + " deep"),
        "footnotes": said("\n".join(f"[^{i}]: note" for i in range(5))),
        "lines": said("\n".join("a" for _ in range(20))),
    }
    assert all(refused.values()), refused
    assert said("a\n" + "\t" * 16 + "not too deep") == []


# Bodies of mostly words, with an occasional opener, footnote or deep indent: what makes the
# counting shortcut (_surely_within_limits) answer, and only limits other than the opener one
# can refuse. The second set of limits makes footnotes matter before the scan limit does.
WORDY_LINES = st.builds(
    lambda indent, parts: indent + " ".join(parts),
    st.sampled_from(["", "", " ", "\t" * 16, " " * 17]),
    st.lists(st.sampled_from(["word", "ordinary", "text" * 12, "[^1]: note", "(", "a]"]), max_size=40),
)
WORDY_BODIES = st.lists(st.one_of(WORDY_LINES, st.just("")), max_size=20).map("\n".join)
FOOTNOTE_FIRST = {
    **LOW_LIMITS,
    "PARAGRAPH_SCAN_LIMIT": 10**6,
    "UPDATE_SCAN_LIMIT": 10**6,
    "FOOTNOTE_LIMIT": 1,
}


@pytest.mark.parametrize("limits", [LOW_LIMITS, FOOTNOTE_FIRST])
@settings(max_examples=300, deadline=None)
@given(body=WORDY_BODIES)
def test_the_counting_shortcut_changes_no_answer_on_wordy_bodies(limits: dict[str, int], body: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setattr(markdown_limits, name, value)
        quick = said(body)
        patch.setattr(markdown_limits, "_surely_within_limits", lambda body: False)
        exact = said(body)
    assert quick == exact


def test_the_counting_shortcut_answers_for_ordinary_updates() -> None:
    """Not vacuous: an ordinary update is settled by the counts, a long one is not."""
    ordinary = "## Rubrik\n\nText med [en länk](annan.md) och (parentes).\n\n- a\n- b\n" * 20
    assert markdown_limits._surely_within_limits(ordinary)
    assert not markdown_limits._surely_within_limits("word " * 5000)
    assert not markdown_limits._surely_within_limits("line\n" * 400)
    assert not markdown_limits._surely_within_limits("[a](b) " * 1000)


def _surely_by_counting(body: str) -> bool:
    """The counting shortcut as first written, with ``str.count``: the reference."""
    size = len(body)
    if (
        size > markdown_limits.PARAGRAPH_CHAR_LIMIT
        or body.count("\n") + 1 > markdown_limits.PARAGRAPH_LINE_LIMIT
    ):
        return False
    openers = body.count("[") + body.count("(") + body.count("<")
    return openers * size <= min(markdown_limits.PARAGRAPH_SCAN_LIMIT, markdown_limits.UPDATE_SCAN_LIMIT)


# Bodies near each bound: lines of openers, newlines and words, a few hundred characters long.
NEAR_BOUNDS = st.lists(
    st.sampled_from(["[", "(", "<", "\n", "a", "word ", "[a](b)", "\n\n", "<<<", "(((", "[[["]), max_size=120
).map("".join)
SCAN_LIMITS = st.fixed_dictionaries(
    {
        "PARAGRAPH_SCAN_LIMIT": st.integers(1, 3000),
        "UPDATE_SCAN_LIMIT": st.integers(1, 3000),
        "PARAGRAPH_LINE_LIMIT": st.integers(1, 40),
        "PARAGRAPH_CHAR_LIMIT": st.integers(1, 400),
    }
)


@settings(max_examples=300, deadline=None)
@given(body=NEAR_BOUNDS, limits=SCAN_LIMITS)
def test_the_counting_shortcut_counts_as_str_count_does(body: str, limits: dict[str, int]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setattr(markdown_limits, name, value)
        assert markdown_limits._surely_within_limits(body) == _surely_by_counting(body)


INDENTED = st.lists(
    st.builds(
        lambda indent, rest: indent + rest,
        st.sampled_from(["", " ", " " * 16, " " * 17, " " * 18, "\t", "\t" * 17, " " * 16 + "\t", "\t "]),
        st.sampled_from(["", "a", " ", "\t", "x y"]),
    ),
    max_size=8,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(body=INDENTED)
def test_the_deep_indent_test_is_the_regex(body: str) -> None:
    assert markdown_limits._deep_indent(body) == (
        markdown_limits._DEEP_INDENT.search("\n" + body) is not None
    )


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (" " * 17 + "first line", True),
        ("a\n" + " " * 17 + "b", True),
        ("a\n" + " " * 16 + "b", False),
        ("a " + " " * 17 + "b", False),  # blanks inside a line are no indent
        ("a\n" + "\t" * 17, True),
        ("a\n" + " " * 16 + "\t", True),
        ("\t" + "a", False),
    ],
)
def test_the_deep_indent_test_by_hand(body: str, deep: bool) -> None:
    assert markdown_limits._deep_indent(body) is deep
    assert (markdown_limits._DEEP_INDENT.search("\n" + body) is not None) is deep
