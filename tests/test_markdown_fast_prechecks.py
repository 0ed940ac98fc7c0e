"""The fast path's declining pre-check answers as its first definition did.

``markdown_fast._unsupported`` looks for reference marks ("]:", "][") with one regex search
instead of two string searches; this compares it with the original checks, on generated text
made of the characters the checks are about, and by hand.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.reading import markdown_fast
from pipeline.reading.markdown_fast_inline import UNSUPPORTED_CHARS, UNSUPPORTED_PAIRS


def _unsupported_reference(body: str) -> bool:
    """The check as first written: every pair asked with two ``in`` tests."""
    for char in UNSUPPORTED_CHARS:
        if char in body:
            return True
    for char, needle in (*UNSUPPORTED_PAIRS, (":", "]:"), ("]", "][")):
        if char in body and needle in body:
            return True
    return "&" in body and markdown_fast._charrefs_incomplete(body)


PIECES = st.sampled_from(
    ["]", ":", "[", "a", " ", "](x)", "] :", "]\n[", "&#3;", "&#", "^", "`", "~", "<", "\n"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=16).map("".join))
def test_unsupported_agrees_with_its_first_definition(body: str) -> None:
    assert markdown_fast._unsupported(body) == _unsupported_reference(body)


@pytest.mark.parametrize(
    ("body", "declines"),
    [
        ("[a](b) text", False),
        ("[a]: http://x", True),
        ("[a][b]", True),
        ("text]", False),
        ("a] b: c [d", False),
        ("]]:", True),
        ("]", False),
        ("]\n[", False),
    ],
)
def test_unsupported_by_hand(body: str, declines: bool) -> None:
    assert markdown_fast._unsupported(body) is declines
    assert _unsupported_reference(body) is declines
