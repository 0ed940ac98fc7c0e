"""Generated documents: the fast Markdown path equals Python-Markdown or declines, never differs.

Two generators. Hypothesis builds documents from a grammar of the constructs the fast path covers
(headings, paragraphs, lists, tables, quotes; emphasis, code, links, images, breaks, entities),
with adversarial characters mixed into every text: the Markdown punctuation, unicode spaces,
tabs, CR, trailing spaces, placeholders' control characters. A seeded token soup (the
prefilter's tokens, which exercise every library pattern, plus covered forms) adds documents no
grammar would write. A generated document of either kind that the fast path renders differently
from the library fails the test; a declined one is fine, but most grammar documents must be
rendered (``test_the_grammar_mostly_takes_the_fast_path``), or the comparison proves nothing.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_markdown_fast import assert_same_or_declined
from tests.test_markdown_prefilter import TOKENS

WORDS = ["kommun", "Malmö", "partnerskap", "data", "år", "2026", "17.1", "ö", "É", "x", "a"]
ADVERSARIAL = list("*_`[]()<>&#!|\\-+.:=~{}\"'^") + [
    "\u00a0",
    "\u2003",
    "\t",
    "\r",
    "\x02",
    "\x03",
    "  ",
    " ",
]
INLINE = [
    "*em*",
    "**strong**",
    "*",
    "**",
    "`kod`",
    "`",
    "\\*",
    "\\[",
    "\\\\",
    "[länk](annan.md)",
    '[länk *x*](https://e.org/a_b?x=1&y=2 "titel")',
    "![bild](media/a.png)",
    '![alt "x"](b.png "t")',
    "&amp;",
    "&#169;",
    "&nbsp;",
    "AT&T",
    "  \n",
    "\n",
    ".",
    ",",
]

word = st.sampled_from(WORDS)
piece = st.one_of(word, word, st.sampled_from(INLINE), st.sampled_from(ADVERSARIAL))
text = st.lists(st.one_of(piece, st.just(" ")), min_size=1, max_size=12).map("".join)
line = text.filter(lambda t: "\n" not in t)


def _heading(draw: st.DrawFn) -> str:
    return "#" * draw(st.integers(1, 7)) + draw(st.sampled_from([" ", "", "  "])) + draw(line)


def _list(draw: st.DrawFn) -> str:
    marker = draw(st.sampled_from(["-", "*", "+", "1.", "3.", "01."]))
    items = draw(st.lists(line, min_size=1, max_size=4))
    return "\n".join(f"{marker} {item}" for item in items)


def _table(draw: st.DrawFn) -> str:
    width = draw(st.integers(1, 3))
    border = draw(st.booleans())
    wrap = (lambda cells: "| " + " | ".join(cells) + " |") if border else " | ".join
    header = wrap(draw(st.lists(line.map(lambda t: t.replace("|", "")), min_size=width, max_size=width)))
    separator = wrap(
        draw(st.lists(st.sampled_from(["---", ":--", "--:", ":-:"]), min_size=width, max_size=width))
    )
    rows = [
        wrap(draw(st.lists(line, min_size=1, max_size=width + 1))) for _ in range(draw(st.integers(0, 3)))
    ]
    return "\n".join([header, separator, *rows])


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["p", "p", "h", "list", "table", "quote"]))
    if kind == "h":
        return _heading(draw)
    if kind == "list":
        return _list(draw)
    if kind == "table":
        return _table(draw)
    if kind == "quote":
        return "\n".join("> " + item for item in draw(st.lists(line, min_size=1, max_size=3)))
    return draw(text)


documents = st.lists(
    st.tuples(block(), st.sampled_from(["\n\n", "\n\n", "\n", "\n\n\n", "\n  \n", " \n\n"])),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(b + sep for b, sep in parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_grammar_documents_render_as_python_markdown_or_decline(body: str) -> None:
    assert_same_or_declined(body)


def test_the_grammar_mostly_takes_the_fast_path() -> None:
    # The same grammar without the adversarial characters: if the fast path declined most of
    # it, the property above would hold without saying anything.
    plain = st.one_of(word, word, st.sampled_from(INLINE))
    plain_line = st.lists(st.one_of(plain, st.just(" ")), min_size=1, max_size=12).map("".join)
    paragraphs = st.lists(plain_line, min_size=1, max_size=3).map("\n".join)
    taken: list[bool] = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(st.lists(paragraphs, min_size=1, max_size=4).map("\n\n".join))
    def run(body: str) -> None:
        taken.append(assert_same_or_declined(body))

    run()
    assert sum(taken) >= 0.3 * len(taken), f"{sum(taken)} of {len(taken)}"  # lone "*" and "`" decline


def test_token_soup_renders_as_python_markdown_or_declines() -> None:
    rng = random.Random(1717)
    pool = TOKENS + INLINE * 3 + WORDS * 3 + ["\n\n", "- ", "1. ", "## ", "> ", "| a | b |\n|---|--:|\n"] * 3
    taken = 0
    for _ in range(2500):
        body = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        taken += assert_same_or_declined(body)
    assert taken > 150
