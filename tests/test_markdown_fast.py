"""The fast Markdown path gives exactly Python-Markdown's output, or declines, on real documents.

"Exactly" is the whole rendering: the HTML, the table of contents the toc extension builds and
the h2/h3 count. The reference is a plain Python-Markdown converter with the pipeline's
extensions (no prefilter, no fast path): the definition of what the Markdown means.
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

import markdown
import pytest

from bench.corpus import update_text
from pipeline.reading import frontmatter
from pipeline.reading.markdown_fast import VERIFIED_WITH, render_fast
from pipeline.reading.markdown_render import (
    EXTENSION_CONFIGS,
    EXTENSIONS,
    TOC_MIN_HEADINGS,
    Rendered,
    render_markdown,
)

REPO = Path(__file__).resolve().parent.parent
_HEADING = re.compile(r"<h[23][\s>]")
_reference = markdown.Markdown(
    extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS, output_format="html"
)


def library(body: str) -> Rendered:
    """Python-Markdown's own rendering, as the pipeline shapes it."""
    _reference.reset()
    html = _reference.convert(body)
    headings = len(_HEADING.findall(html))
    toc = getattr(_reference, "toc", "") if headings >= TOC_MIN_HEADINGS else ""
    return Rendered(html=html, toc_html=toc, heading_count=headings)


def fast(body: str) -> Rendered | None:
    result = render_fast(body)
    if result is None:
        return None
    html, toc, headings = result
    return Rendered(html=html, toc_html=toc if headings >= TOC_MIN_HEADINGS else "", heading_count=headings)


def assert_same_or_declined(body: str) -> bool:
    """True when the fast path rendered ``body`` (and matched), False when it declined."""
    got = fast(body)
    if got is None:
        return False
    assert got == library(body), repr(body[:300])
    return True


def _example_bodies() -> list[str]:
    return [
        frontmatter.split(p.read_text(encoding="utf-8")).body for p in sorted((REPO / "content").glob("*.md"))
    ]


def _fixture_strings() -> list[str]:
    """Every multi-line string literal in the test suite: the Markdown fixtures, and more."""
    found: list[str] = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                text = node.value
                if text.lstrip().startswith("---"):
                    with contextlib.suppress(ValueError):  # not front matter after all
                        text = frontmatter.split(text.lstrip()).body
                found.append(text)
    return found


def test_the_installed_python_markdown_is_the_release_the_fast_path_reproduces() -> None:
    # Another release may pair emphasis or order patterns differently: the fast path then
    # switches itself off. Re-run these tests against the new release, fix what differs, and
    # only then move VERIFIED_WITH.
    assert markdown.__version__ == VERIFIED_WITH


def test_example_content_renders_as_python_markdown_and_mostly_fast() -> None:
    bodies = _example_bodies()
    taken = [assert_same_or_declined(body) for body in bodies]
    assert len(bodies) >= 15
    assert sum(taken) >= 0.8 * len(bodies)


def test_every_string_fixture_in_the_tests_renders_as_python_markdown_or_declines() -> None:
    strings = _fixture_strings()
    assert len(strings) > 200
    taken = [assert_same_or_declined(text) for text in strings]
    assert sum(taken) > 50  # many fixtures are plain updates: the comparison is not vacuous


@pytest.mark.parametrize("seed", [17, 3, 99])
def test_benchmark_updates_render_as_python_markdown_all_through_the_fast_path(seed: int) -> None:
    bodies = [frontmatter.split(update_text(i, 2000, seed)).body for i in range(0, 2000, 20)]
    assert all(assert_same_or_declined(body) for body in bodies)


def test_the_pipeline_renderer_gives_the_library_result_whichever_path_runs() -> None:
    taken = "## Rubrik\n\nText med *betoning*, `kod` och [en länk](annan.md).\n"
    declined = "Text med <b>HTML</b> och en fotnot[^1].\n\n[^1]: Fotnoten.\n"
    assert fast(taken) is not None and fast(declined) is None
    for body in (taken, declined):
        assert render_markdown(body) == library(body)


# Each of these shows one rule of the library the fast path models; the differential check
# is the test, the comment says what could go wrong.
CASES = [
    "## Samma\n\n## Samma\n\n### Samma\n\n## Samma_1\n",  # toc's duplicate suffixes
    "# Rubrik\n\n## Två\n\n### Tre\n\n#### Fyra\n\n## Fem\n\n### Sex",  # toc nesting, depth 2-3
    "## Å, ä & ö – *betonat* `kod`\n\n## \n\n## #\n\n## Slut ##\n",  # ids of odd headings
    "Stycke\n## Rubrik mitt i\nefter\n#hashtag",  # a heading inside a block
    "- a\n- b\n\n- c\n- d\n\n- e",  # loose lists, the library's way
    "1. a\n1. b\n\n3. c\n\n07. x\n08. y\n\n- ett\n\n1. två",  # starts, sane_lists siblings
    "- a\nlat fortsättning\n- b *c*\n- [d](e.md)",  # lazy continuation
    "| a | b |\n|:-|-:|\n| 1 | 2 |\n| 3 |\n\nx | y\n--|:-:\n\n| ensam |\n|---|\n| rad |",  # tables
    "> citat\n> rad\n>\n> två\n\ntext\n> citat efter text\n\n> > djup",  # quotes
    "rad  \nbryt   \nslut  ",  # hard breaks
    "**fet**. *kursiv*, a*b*c, **x** * y * **",
    "* ej\n\n** ej **",  # flanking rules
    "AT&T &amp; &copy; &#169; &#xA9; &nbsp; &ingen;",  # entities
    "\\*inte\\* \\[inte\\] \\# \\\\ \\!",  # escapes
    '![bild](m/a.png "Titel") [länk](https://e.org/a_b?x=1&y=2 "T & t") [](tom.md)',  # links
    "`kod & <x` och `ensam",  # code spans
    "text\n\n\n\nmer\n   \nsist \n",  # blank lines, trailing spaces
    "Rubrik\n======",  # setext headings (tests/test_markdown_fast_wider.py has more)
    "text\n\n---\n\nmer",  # a rule
    "_understruken_",  # underscore emphasis
    "```\nkod\n```",  # fenced code
    "- a\n    - nästlad",  # a nested list
]


@pytest.mark.parametrize("body", CASES)
def test_constructs_render_as_python_markdown(body: str) -> None:
    assert_same_or_declined(body)


def test_most_constructs_above_take_the_fast_path() -> None:
    assert sum(fast(body) is not None for body in CASES) >= len(CASES) - 3


DECLINED = [
    "<div>raw</div>",
    "    indragen kod",
    "[ref][x]\n\n[x]: http://e.org",
    "text[^1]\n\n[^1]: fot",
    "## Rubrik {: #eget }",
    "***fet kursiv***",
    "*ej stängd",
    "**a *nästlad* b**",
    "[TOC]",
    "a\tb",
    "&#3 utan semikolon",
]


@pytest.mark.parametrize("body", DECLINED)
def test_what_is_not_modelled_declines_and_still_renders_as_python_markdown(body: str) -> None:
    assert fast(body) is None
    assert render_markdown(body) == library(body)
