"""The prefiltered converter must give exactly what Python-Markdown gives, on any input."""

from __future__ import annotations

import random
import xml.etree.ElementTree as etree
from pathlib import Path

import markdown
import pytest

from bench.corpus import update_text
from pipeline.reading import frontmatter, markdown_prefilter, markdown_render
from pipeline.reading.markdown_render import EXTENSION_CONFIGS, EXTENSIONS, render_markdown

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
    "---\n",
    "- - -\n",
    "***\n",
    "___",
    "===\n",
    "Rubrik\n---\n",
    "| x |",
    "|",
    "x | y\n--|--\n",
    ">",
    "\n> citat",
    "[^2]: not\n",
    "[r]: http://e.org 'titel'\n",
    "[r]: <http://e.org>\n",
    "###",
    "#hash",
]


def _reference() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS, output_format="html"
    )


def _prefiltered() -> markdown.Markdown:
    return markdown_prefilter.install(_reference())


def _convert(md: markdown.Markdown, text: str) -> tuple[str, str]:
    md.reset()
    return md.convert(text), getattr(md, "toc", "")


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_generated_snippets_convert_exactly_as_python_markdown() -> None:
    reference, prefiltered = _reference(), _prefiltered()
    for text in _generated(3000, seed=17):
        assert _convert(prefiltered, text) == _convert(reference, text), repr(text)


def test_example_content_and_benchmark_updates_convert_exactly_as_python_markdown() -> None:
    reference, prefiltered = _reference(), _prefiltered()
    bodies = [
        frontmatter.split(p.read_text(encoding="utf-8")).body for p in sorted((REPO / "content").glob("*.md"))
    ]
    bodies += [frontmatter.split(update_text(i, 200)).body for i in range(0, 200, 7)]
    assert len(bodies) > 40
    for body in bodies:
        assert _convert(prefiltered, body) == _convert(reference, body)


def test_the_pipeline_renderer_is_the_prefiltered_one() -> None:
    body = "Text med `kod`, *betoning* och [en länk](https://e.org)."
    assert render_markdown(body).html == _convert(_reference(), body)[0]
    assert isinstance(
        markdown_render._converter().treeprocessors["inline"], markdown_prefilter.PrefilteredInlineProcessor
    )


def test_every_built_in_pattern_has_a_reviewed_hint() -> None:
    """A Python-Markdown upgrade that changes a pattern shows up here (correct, but slower)."""
    md = _reference()
    missing = [
        item.name
        for item in md.inlinePatterns._priority
        if markdown_prefilter.inline_hint(item.name, md.inlinePatterns[item.name].getCompiledRegExp().pattern)
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
        hint = markdown_prefilter.inline_hint(item.name, regex.pattern)
        assert hint is not None
        for text in texts:
            for start in (0, len(text) // 2):
                if regex.search(text, start) is not None:
                    assert any(text.find(char, start) >= 0 for char in hint), (item.name, text, start)


def test_every_built_in_block_processor_with_a_costly_test_has_a_reviewed_hint() -> None:
    md = _reference()
    hinted = {
        item.name
        for item in md.parser.blockprocessors._priority
        if any(markdown_prefilter.block_hints(item.name, md.parser.blockprocessors[item.name]))
    }
    assert hinted == {"table", "hashheader", "setextheader", "hr", "quote", "footnote", "reference"}


@pytest.mark.parametrize("seed", [3, 4])
def test_block_hints_hold_whenever_the_processor_takes_the_block(seed: int) -> None:
    """Without a hint character the library's own test says no, or its run gives the block back."""
    md = _reference()
    blocks = [block for text in _generated(2000, seed) for block in text.split("\n\n") if block]
    checked = 0
    for item in md.parser.blockprocessors._priority:
        processor = md.parser.blockprocessors[item.name]
        test_hint, run_hint = markdown_prefilter.block_hints(item.name, processor)
        for block in blocks:
            if test_hint is not None and not any(char in block for char in test_hint):
                assert not processor.test(etree.Element("div"), block), (item.name, block)
                checked += 1
            if run_hint is not None and not any(char in block for char in run_hint):
                md.reset()
                parent, queue = etree.Element("div"), [block, "efter"]
                assert processor.run(parent, queue) is False, (item.name, block)
                assert queue == [block, "efter"] and len(parent) == 0
                checked += 1
    assert checked > 1000


def test_the_costly_preprocessors_have_reviewed_hints() -> None:
    md = _reference()
    hinted = {
        item.name
        for item in md.preprocessors._priority
        if markdown_prefilter.preprocessor_hint(item.name, md.preprocessors[item.name]) is not None
    }
    assert hinted == {"fenced_code_block", "html_block"}


@pytest.mark.parametrize("seed", [5, 6])
def test_preprocessor_hints_hold_whenever_the_preprocessor_changes_the_text(seed: int) -> None:
    """Without one of its strings, the library's own preprocessor gives back the lines unchanged."""
    md = _reference()
    texts = _generated(3000, seed)
    checked = 0
    for item in md.preprocessors._priority:
        processor = md.preprocessors[item.name]
        needles = markdown_prefilter.preprocessor_hint(item.name, processor)
        if needles is None:
            continue
        for text in texts:
            if not any(needle in text for needle in needles):
                md.reset()
                lines = text.split("\n")
                assert processor.run(list(lines)) == lines, (item.name, text)
                checked += 1
    assert checked > 1000


def test_marker_searching_tree_processors_are_guarded() -> None:
    md = _prefiltered()
    assert md.preprocessors["prefilter_source"] is not None
    guarded = [item.name for item in md.treeprocessors._priority if item.name in {"attr_list", "toc"}]
    assert guarded == ["attr_list", "toc"]
    for text in ["Stycke {: #eget-id }\n", "# Rubrik {: .klass }\n\n[TOC]\n\n## Del\n", "Bara text.\n"]:
        assert _convert(md, text) == _convert(_reference(), text)
