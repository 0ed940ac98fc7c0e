"""The fast path's own shortcuts give what its general path gives (or both decline).

``markdown_fast_blocks.inline`` skips the inline phases for text none of them acts on, and
``parse_block`` takes a one-line block that only the paragraph processor could take without
asking the other processors. Each is compared here with the general path it stands for
(``InlineRenderer.render``, ``parse_general``) over every line and block of real inputs (the
example content, tests/data/markdown_wider, bench corpora with two seeds) and over generated
hostile text (the prefilter's token soup, arbitrary Unicode).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import update_text
from pipeline.reading.markdown_fast_blocks import inline, parse_block, parse_general
from pipeline.reading.markdown_fast_inline import Decline, InlineRenderer
from tests.test_markdown_prefilter import TOKENS

ROOT = Path(__file__).resolve().parent.parent


def _outcome(function, *args) -> object:
    try:
        return function(*args)
    except Decline:
        return Decline


def _block_outcome(function, block: str) -> object:
    out: list = []
    blocks: list[str] = []
    try:
        function(block, out, blocks)
    except Decline:
        return Decline
    return out, blocks


def assert_same(text: str) -> None:
    """Both shortcuts agree with the general path on ``text`` (as inline text and as a block)."""
    assert _outcome(inline, text) == _outcome(InlineRenderer().render, text), repr(text)
    if text and text[0] not in "\n ":  # parse_block answers those before the shortcut
        assert _block_outcome(parse_block, text) == _block_outcome(parse_general, text), repr(text)


def _real_texts() -> list[str]:
    bodies = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "content").rglob("*.md"))]
    bodies += [
        path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "tests/data/markdown_wider").rglob("*.md"))
    ]
    for seed in (1, 2):
        bodies += [update_text(index, 300, seed) for index in range(150)]
    # Lines each block processor before the paragraph takes (a Unicode digit is re's \d too).
    texts = {"٣. item", "1. item", "- item", "* item", "+ item", "> quote", "# head", "[a]: b"}
    texts |= {"[^1]: note", "---", "___", "* * *", "\u3000x", "x\u3000", "a  \nb", "**a**"}
    texts.add("[a](x]:y)")  # a definition's "]:" that the link pattern would swallow
    for body in bodies:
        for block in body.split("\n\n"):
            texts.add(block)
            texts.update(block.split("\n"))
    return sorted(texts)


def test_shortcuts_agree_on_real_lines_and_blocks() -> None:
    texts = _real_texts()
    assert len(texts) > 1000
    for text in texts:
        assert_same(text)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.sampled_from([*TOKENS, "#", "1.", "٣.", "²", "> ", "- ", "|", "]:", "\u3000"]), max_size=30
    ).map("".join)
)
def test_shortcuts_agree_on_token_soup(text: str) -> None:
    assert_same(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_shortcuts_agree_on_any_text(text: str) -> None:
    assert_same(text)
