"""The constructs the fast path learned last equal Python-Markdown's output, or decline.

Setext headings, horizontal rules, ``_``/``__`` emphasis (alone and beside ``*``), fenced code
blocks: hand-written cases that show one rule each, a Hypothesis grammar that mixes them with the
older constructs (rules inside quotes, emphasis across links, setext underlines under list
lines, fences between lists) and hostile characters, and a token soup. A document rendered
differently from the library fails; a declined one passes, but most of the plain grammar must
be rendered (``test_the_wider_grammar_mostly_takes_the_fast_path``).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.reading.markdown_fast_blocks import _plain_item, parsed_item
from pipeline.reading.markdown_fast_inline import Decline
from tests.test_markdown_fast import assert_same_or_declined, fast
from tests.test_markdown_fast_property import ADVERSARIAL, WORDS

TAKEN = [
    "Rubrik\n======\n\nText.\n\nUnderrubrik\n-----------\nmer text",
    "- a\n---",  # a setext heading, not a list (setext comes first)
    "Text\n***\nmer\n\n- - -\n\n___\n\n* * *",
    "> citat\n> ---\n> mer",
    "_kursiv_, __fet__, snake_case, __init__ och *stjärna* _understreck_",
    "[_länk_](a_b.md) _före [länk](c.md) efter_",
    "## _Rubrik_ med __fet__\n\n## Rubrik\n---",
    "a_\n_b_",
    "```\nkod & inget > x\n```",
    "Före\n```python\ndef f(x_y):\n    return x_y * 2\n```\nEfter",
    "- a\n    - b\n    - c\n- d\n\n1. a\n    1. b\n        - x\n2. c",
    "- a\n  - two spaces: the same list\n- b\n  lazy continuation",
    "1. **Örebro**\n\n    Stycke i punkten.\n\n2. **Lund**\n\n    Ett till.\n\n    - och en lista",
    "- **Dag 1:** mottagning\n    - tal\n    - presentation\n- **Dag 2:** besök",
    "| Kolumn | Innehåll |\n|---|---|\n| `kod` | Kommunkod |\n| `ar` | År `x` |",
    '~~~ sh\n$ ls -l\n\n$ echo "*"\n~~~\n\n- a\n- b',
]

DECLINED = [
    "*a _b_ c*",  # tokens interleaved: the library's two stacks
    "___a___",  # three-run emphasis
    "```{.py #x}\nkod\n```",  # attribute lists on fences
    "- a\n\n        djup",  # two levels down after a blank line
    "text\n\n    indragen kod",
    "| a | `b|c` |\n|---|---|",  # a pipe inside code: the library's split
]


@pytest.mark.parametrize("body", TAKEN)
def test_new_constructs_take_the_fast_path_and_match_the_library(body: str) -> None:
    assert assert_same_or_declined(body), repr(body)


@pytest.mark.parametrize("body", DECLINED)
def test_what_stays_unmodelled_declines(body: str) -> None:
    assert fast(body) is None


WIDER_INLINE = [
    "_em_",
    "__strong__",
    "_",
    "__",
    "snake_case",
    "*em*",
    "**strong**",
    "`kod_x`",
    "[länk _x_](a_b.md)",
    "![bild_1](m/b_1.png)",
    "  \n",
    "\n",
    ".",
    "'",
    "(",
]

word = st.sampled_from(WORDS)
piece = st.one_of(word, word, st.sampled_from(WIDER_INLINE), st.sampled_from(ADVERSARIAL))
text = st.lists(st.one_of(piece, st.just(" ")), min_size=1, max_size=12).map("".join)
line = text.filter(lambda t: "\n" not in t)
RULES = ["---", "***", "___", "- - -", "* * *", "_ _ _", "----------", " ---", "--", "-"]
FENCES = ["```", "~~~", "````", "```py", "``` python", "~~~ .sh", "```c++"]


INDENTS = ["    ", "    ", "  ", "     ", "        ", "   ", " "]
MARKERS = ["-", "*", "+", "1.", "2.", "10."]


def _nested_list(draw: st.DrawFn) -> str:
    """Items, nested items, lazy and indented continuation lines, paragraphs after blank lines."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        indent = draw(st.sampled_from(["", "", *INDENTS]))
        shape = draw(st.sampled_from(["item", "item", "item", "lazy", "blank-para", "blank"]))
        if shape == "item":
            lines.append(f"{indent}{draw(st.sampled_from(MARKERS))} {draw(line)}")
        elif shape == "lazy":
            lines.append(indent + draw(line))
        elif shape == "blank-para":
            lines.append("\n" + draw(st.sampled_from(INDENTS)) + draw(line))
        else:
            lines.append("")
    return "\n".join(lines)


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["p", "p", "setext", "rule", "fence", "list", "nested", "quote", "quoted", "h"])
    )
    if kind == "nested":
        return _nested_list(draw)
    if kind == "quoted":  # a nested list, a rule or a setext heading inside a quote
        inner = draw(
            st.sampled_from([_nested_list(draw), draw(st.sampled_from(RULES)), draw(line) + "\n---"])
        )
        return "\n".join(draw(st.sampled_from(["> ", ">", "> "])) + row for row in inner.split("\n"))
    if kind == "setext":
        return draw(line) + "\n" + draw(st.sampled_from(["===", "---", "=", "-", "== ", "--- "]))
    if kind == "rule":
        return draw(st.sampled_from(RULES))
    if kind == "fence":
        fence = draw(st.sampled_from(FENCES))
        close = fence.split(" ")[0].rstrip("pyhc+.")
        body = "\n".join(draw(st.lists(text, min_size=0, max_size=3)))
        return f"{fence}\n{body}\n{close}" if body else f"{fence}\n{close}"
    if kind == "list":
        marker = draw(st.sampled_from(["-", "*", "1."]))
        return "\n".join(f"{marker} {item}" for item in draw(st.lists(line, min_size=1, max_size=3)))
    if kind == "quote":
        return "\n".join("> " + item for item in draw(st.lists(line, min_size=1, max_size=3)))
    if kind == "h":
        return "## " + draw(line)
    return draw(text)


documents = st.lists(
    st.tuples(block(), st.sampled_from(["\n\n", "\n\n", "\n", "\n\n\n", "\n  \n"])),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(b + sep for b, sep in parts))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_wider_grammar_documents_render_as_python_markdown_or_decline(body: str) -> None:
    assert_same_or_declined(body)


def test_the_wider_grammar_mostly_takes_the_fast_path() -> None:
    plain = st.one_of(word, word, st.sampled_from(WIDER_INLINE))
    plain_line = st.lists(st.one_of(plain, st.just(" ")), min_size=1, max_size=8).map("".join)
    plain_block = st.one_of(
        plain_line,
        plain_line.map(lambda t: t.replace("\n", " ") + "\n---"),
        st.sampled_from(RULES[:6]),
        st.sampled_from(["```\nkod_x *y*\n```", "```py\nx = 1\n```"]),
    )
    taken: list[bool] = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(st.lists(plain_block, min_size=1, max_size=4).map("\n\n".join))
    def run(body: str) -> None:
        taken.append(assert_same_or_declined(body))

    run()
    assert sum(taken) >= 0.3 * len(taken), f"{sum(taken)} of {len(taken)}"


def test_wider_token_soup_renders_as_python_markdown_or_declines() -> None:
    rng = random.Random(2026)
    pool = WIDER_INLINE * 3 + WORDS * 3 + RULES + FENCES + ["\n\n", "\n", "- ", "> ", "=", "\n---\n"] * 3
    taken = 0
    for _ in range(2500):
        body = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        taken += assert_same_or_declined(body)
    assert taken > 150


def test_nested_lists_of_plain_words_mostly_take_the_fast_path_and_match() -> None:
    # Lists as people write them, words only: the shapes, not the characters, are under test.
    plain = st.lists(st.one_of(word, st.sampled_from(["*em*", "_em_", "`k`"])), min_size=1, max_size=4)
    entry = st.tuples(
        st.sampled_from(["", "", "    ", "  ", "        "]),
        st.sampled_from(["item", "item", "item", "para"]),
        st.sampled_from(["-", "1."]),
        plain.map(" ".join),
    )

    def shape(entries: list[tuple[str, str, str, str]]) -> str:
        lines = ["- first"]
        for indent, kind, marker, words in entries:
            lines.append(f"{indent}{marker} {words}" if kind == "item" else f"\n    {words}\n")
        return "\n".join(lines)

    taken: list[bool] = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.lists(entry, min_size=1, max_size=6).map(shape))
    def run(body: str) -> None:
        taken.append(assert_same_or_declined(body))

    run()
    assert sum(taken) >= 0.5 * len(taken), f"{sum(taken)} of {len(taken)}"


FIXTURES = sorted((Path(__file__).parent / "data" / "markdown_wider").glob("*.md"))


def test_the_hand_written_updates_are_many_and_use_the_new_constructs() -> None:
    bodies = [path.read_text(encoding="utf-8") for path in FIXTURES]
    assert len(bodies) >= 20
    for needle in ("\n    - ", "\n  - ", "\n    1. ", "_", "  \n", "\n---\n", "```", "~~~", "\n-----"):
        assert any(needle in body for body in bodies), needle


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_hand_written_updates_take_the_fast_path_and_match_the_library(path: Path) -> None:
    assert assert_same_or_declined(path.read_text(encoding="utf-8"))


def _item_texts() -> list[str]:
    """List item texts as the list processors cut them, from the fixtures and benchmark corpora."""
    from bench.corpus import update_text
    from pipeline.reading import frontmatter
    from pipeline.reading.markdown_fast_blocks import OLIST_CHILD, ULIST_CHILD

    bodies = [path.read_text(encoding="utf-8") for path in FIXTURES]
    bodies += [
        frontmatter.split(update_text(i, 400, seed)).body for seed in (17, 3) for i in range(0, 400, 5)
    ]
    texts = []
    for body in bodies:
        for line in body.split("\n"):
            match = OLIST_CHILD.match(line) or ULIST_CHILD.match(line)
            if match:
                texts.append(match.group(3))
    return texts


def _outcome(render: object, text: str) -> str | None:
    try:
        return render(text)  # type: ignore[operator]
    except Decline:
        return None


def test_the_one_line_item_shortcut_equals_parsing_the_item() -> None:
    texts = _item_texts()
    assert len(texts) > 300
    assert all(_outcome(_plain_item, t) == _outcome(parsed_item, t) for t in texts)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        line,
        st.sampled_from(
            [
                "#",
                "-",
                "*",
                "+",
                ">",
                "1.",
                "٣.",
                "[a]: b",
                "---",
                "\u00a0",
                "* ",
                "- ",
                "+ ",
                "**",
                "- -",
                "* *",
                "_ _",
                "__",
                "***",
            ]
        ),
    ),
    line,
)
def test_the_one_line_item_shortcut_equals_parsing_hostile_items(head: str, rest: str) -> None:
    text = head + rest
    assert _outcome(_plain_item, text) == _outcome(parsed_item, text)
