"""The skipping inline pass must give exactly what Python-Markdown gives, on any input."""

from __future__ import annotations

import random
from pathlib import Path

import markdown
import pytest

from bench.corpus import update_text
from pipeline import frontmatter, markdown_inline, markdown_render
from pipeline.markdown_render import EXTENSION_CONFIGS, EXTENSIONS, render_markdown

REPO = Path(__file__).resolve().parent.parent

# Pieces that exercise every inline pattern, alone, nested and broken.
TOKENS = [
    "ord",
    "text ",
    " ",
    " ",
    "\n",
    "  \n",
    "\n\n",
    "*",
    "**",
    "***",
    "_",
    "__",
    "`",
    "``",
    "\\",
    "\\`",
    "\\*",
    "\\\\",
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "[^1]",
    "[^1]: fot\n",
    "[x]: http://e.org\n",
    "[länk](a.md)",
    "[ref][x]",
    "<",
    ">",
    "<b>",
    "</b>",
    "<http://e.org/a?b=1&c=2>",
    "<a@b.se>",
    "<!-- c -->",
    "&amp;",
    "&#228;",
    "&#xE4;",
    "&",
    "&nope",
    "{: #id }",
    "{: .k }",
    "# ",
    "## Rubrik\n",
    "- ",
    "1. ",
    "> ",
    "    kod\n",
    "```\nkod\n```\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "[TOC]",
    "å",
    "ö",
    "\t",
    "!",
    "~",
    "'",
    '"',
    "#",
    "<?php x ?>",
    "<![CDATA[x]]>",
]


def _reference() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS, output_format="html"
    )


def _skipping() -> markdown.Markdown:
    return markdown_inline.install(_reference())


def _convert(md: markdown.Markdown, text: str) -> tuple[str, str]:
    md.reset()
    return md.convert(text), getattr(md, "toc", "")


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_generated_snippets_convert_exactly_as_python_markdown() -> None:
    reference, skipping = _reference(), _skipping()
    for text in _generated(3000, seed=17):
        assert _convert(skipping, text) == _convert(reference, text), repr(text)


def test_example_content_and_benchmark_updates_convert_exactly_as_python_markdown() -> None:
    reference, skipping = _reference(), _skipping()
    bodies = [
        frontmatter.split(p.read_text(encoding="utf-8")).body for p in sorted((REPO / "content").glob("*.md"))
    ]
    bodies += [frontmatter.split(update_text(i, 200)).body for i in range(0, 200, 7)]
    assert len(bodies) > 40
    for body in bodies:
        assert _convert(skipping, body) == _convert(reference, body)


def test_the_pipeline_renderer_is_the_skipping_one() -> None:
    body = "Text med `kod`, *betoning* och [en länk](https://e.org)."
    assert render_markdown(body).html == _convert(_reference(), body)[0]
    assert isinstance(
        markdown_render._converter().treeprocessors["inline"], markdown_inline.SkippingInlineProcessor
    )


def test_every_built_in_pattern_has_a_reviewed_hint() -> None:
    """A Python-Markdown upgrade that changes a pattern shows up here (correct, but slower)."""
    md = _reference()
    missing = [
        item.name
        for item in md.inlinePatterns._priority
        if markdown_inline.hint_for(item.name, md.inlinePatterns[item.name].getCompiledRegExp().pattern)
        is None
    ]
    assert missing == []


@pytest.mark.parametrize("seed", [1, 2])
def test_hints_hold_whenever_the_pattern_matches(seed: int) -> None:
    """Each hint's claim, checked directly: no match without one of its characters."""
    md = _reference()
    texts = _generated(2000, seed) + [t.replace("\n", " ") for t in _generated(500, seed + 10)]
    for item in md.inlinePatterns._priority:
        regex = md.inlinePatterns[item.name].getCompiledRegExp()
        hint = markdown_inline.hint_for(item.name, regex.pattern)
        assert hint is not None
        for text in texts:
            for start in (0, len(text) // 2):
                if regex.search(text, start) is not None:
                    assert any(text.find(char, start) >= 0 for char in hint), (item.name, text, start)
