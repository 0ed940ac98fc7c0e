"""Python-Markdown, minus the regex searches that cannot succeed.

Python-Markdown tries its patterns one after another. Every block of an update is offered to
about a dozen block processors, and every run of text (paragraph, list item, heading, table
cell) is searched with about fifteen inline patterns. Several of those regexes start with a
lookbehind or an ``(?:^|\\n)`` alternation, so Python's ``re`` tries them at every position:
the backtick pattern alone costs about 17 µs per paragraph, although most text holds no
backtick at all. On the benchmark corpus, skipping such work cuts Markdown time by more than half
(about 2.4 → 1.1 ms per update).

Every match of each of those patterns must contain one of a few characters (a backtick, ``[``,
``<``, ``#``, ``>`` …). ``str.find`` answers "is any of them here?" in C, so before the library
runs a pattern we ask that; when the answer is no, we do exactly what the library does after a
failed search (next pattern or processor), and when it is yes, the library's own code runs.
The output is the library's, byte for byte: ``tests/test_markdown_prefilter.py`` compares the
two on the example content, benchmark updates and thousands of generated snippets, and checks
each hint's claim against its regex directly.

A hint applies only to the exact processor class and regex it was written for. A
Python-Markdown release that changes one falls back to the library's code (correct, slower)
and a test reports the hint as missing, so it gets reviewed rather than trusted.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as etree
from collections.abc import Callable
from typing import Any

import markdown
from markdown import blockprocessors, inlinepatterns, treeprocessors, util
from markdown.preprocessors import Preprocessor

# Inline patterns: (registry name, regex source) → characters of which every match holds at
# least one, at or after the index the search starts from (lookaheads included).
INLINE_HINTS: dict[tuple[str, str], str] = {
    ("backtick", r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)"): "`",
    ("escape", r"\\(.)"): "\\",
    ("footnote", r"\[\^([^\]]*)\]"): "[",
    ("reference", r"(?<!\!)\["): "[",
    ("link", r"(?<!\!)\["): "[",
    ("image_link", r"\!\["): "!",
    ("image_reference", r"\!\["): "!",
    ("short_reference", r"(?<!\!)\["): "[",
    ("short_image_ref", r"\!\["): "!",
    ("autolink", r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>"): "<",
    ("automail", r"<([^<> !]+@[^@<> ]+)>"): "<",
    ("linebreak", r"  \n"): "\n",
    ("entity", r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)"): "&",
    ("em_strong", r"\*|_"): "*_",
}

# Block processors: (registry name, class name, regex source or None) → characters the block
# must contain for the processor to accept it. "test" hints guard ``test(parent, block)``;
# "run" hints guard processors whose test always says yes and whose ``run`` gives the block back
# untouched and returns False when its regex finds nothing.
BLOCK_TEST_HINTS: dict[tuple[str, str, str | None], str] = {
    (
        "hashheader",
        "HashHeaderProcessor",
        r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)",
    ): "#",
    ("setextheader", "SetextHeaderProcessor", r"^.*?\n(?:=+|-+)[ ]*(\n|$)"): "=-",
    (
        "hr",
        "HRProcessor",
        r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
        r"(?P=atomicgroup)[ ]*$",
    ): "-_*",
    ("quote", "BlockQuoteProcessor", r"(^|\n)[ ]{0,3}>[ ]?(.*)"): ">",
    # TableProcessor.test needs a header row split by pipes (or a bordered single column).
    ("table", "TableProcessor", None): "|",
}
BLOCK_RUN_HINTS: dict[tuple[str, str, str | None], str] = {
    (
        "reference",
        "ReferenceProcessor",
        r"^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?"
        r'((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$',
    ): "[",
    ("footnote", "FootnoteBlockProcessor", r"^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$"): "[",
}


# Preprocessors: (registry name, class name, sha256 of the regex source, first 16 hex digits, or
# None) → strings of which the text must contain one for the preprocessor to change anything;
# without any, the library's run gives back the lines it was given.
PREPROCESSOR_HINTS: dict[tuple[str, str, str | None], tuple[str, ...]] = {
    # Fenced blocks open with ``` or ~~~ at a line start (FENCED_BLOCK_RE).
    ("fenced_code_block", "FencedBlockPreprocessor", "588455cd8f4f8ecb"): ("```", "~~~"),
    # Python's html.parser, under the raw-HTML extractor, acts only on "<" and on entity and
    # character references ("&"); all other text it hands back as it was.
    ("html_block", "HtmlBlockPreprocessor", None): ("<", "&"),
}


# Tree processors that look for markers typed in the text: (registry name, class name) → the
# strings the text must contain. Text in the tree comes from the source after whitespace
# normalization (kept by :class:`SourceNote`); no processor makes a "{" or a "[TOC]" of its own.
TREE_HINTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("attr_list", "AttrListTreeprocessor"): ("{",),  # every attribute list is "{…}"
}
TOC_PROCESSOR = ("toc", "TocTreeprocessor")  # its marker search is guarded by the marker itself


class SourceNote(Preprocessor):
    """Keeps the normalized source on the converter for the preprocessor and tree guards."""

    def run(self, lines: list[str]) -> list[str]:
        self.md.prefilter_text = "\n".join(lines)  # type: ignore[attr-defined]
        return lines


def preprocessor_hint(name: str, processor: Preprocessor) -> tuple[str, ...] | None:
    """The strings a registered preprocessor needs in the text to do anything, if known."""
    regex = getattr(processor, "FENCED_BLOCK_RE", None)
    source = hashlib.sha256(regex.pattern.encode("utf-8")).hexdigest()[:16] if regex is not None else None
    return PREPROCESSOR_HINTS.get((name, type(processor).__name__, source))


def inline_hint(name: str, source: str) -> str | None:
    """The characters a match of the named built-in inline pattern must contain, if known."""
    if name == "html" and source.startswith("(<(") and source.endswith(")>)"):
        return "<"  # every alternative sits between a literal "<" and a literal ">"
    return INLINE_HINTS.get((name, source))


def block_hints(name: str, processor: blockprocessors.BlockProcessor) -> tuple[str | None, str | None]:
    """(test hint, run hint) for a registered block processor, each None when unknown."""
    key = (name, type(processor).__name__, _block_regex_source(processor))
    return BLOCK_TEST_HINTS.get(key), BLOCK_RUN_HINTS.get(key)


def _block_regex_source(processor: blockprocessors.BlockProcessor) -> str | None:
    regex = getattr(processor, "SEARCH_RE", None) or getattr(processor, "RE", None)
    return getattr(regex, "pattern", None)


def _contains_any(text: str, chars: str, start: int = 0) -> bool:
    # A plain loop: any() over a generator costs more than the finds it saves here.
    for char in chars:  # noqa: SIM110
        if text.find(char, start) >= 0:
            return True
    return False


def _undefined_references_only(pattern: inlinepatterns.Pattern, md: markdown.Markdown) -> bool:
    """A reference pattern in a document that defines no references.

    The library's reference patterns (``[text][id]``, ``[text]``, ``![alt][id]``, ``![alt]``)
    make an element only for a defined id; for any other match they return no element and let
    the same pattern go on after it, leaving the text as it was. Definitions are collected by the
    block parser, before the inline pass, so with none the pattern is a no-op, and most updates
    define none.
    """
    return (
        not md.references
        and isinstance(pattern, inlinepatterns.ReferenceInlineProcessor)
        and type(pattern).handleMatch is inlinepatterns.ReferenceInlineProcessor.handleMatch
    )


class PrefilteredInlineProcessor(treeprocessors.InlineProcessor):
    """The library's inline processor with a cheap "cannot match" test in front of each pattern."""

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        names = [item.name for item in self.inlinePatterns._priority]
        self._table = []
        for name, pattern in zip(names, self.inlinePatterns, strict=True):
            if _undefined_references_only(pattern, self.md):
                continue  # it can only skip over text: without references it changes nothing
            if isinstance(pattern, inlinepatterns.InlineProcessor):
                regex = pattern.getCompiledRegExp()
                self._table.append((pattern, regex, inline_hint(name, regex.pattern)))
            else:  # a legacy pattern matches differently: always hand it to the library
                self._table.append((pattern, None, None))
        return super().run(tree, ancestors)

    # Name-mangled override of InlineProcessor.__handleInline: the library calls it for every
    # run of text, and recursively for the text inside what a pattern matched.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, util.AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern
        table = self._table
        count = len(table)
        start = 0
        while patternIndex < count:
            pattern, regex, hint = table[patternIndex]
            if regex is not None and (
                not _contains_any(data, hint, start)
                if hint is not None
                else regex.search(data, start) is None
            ):
                # What the library does when a pattern finds nothing: next pattern, from 0.
                patternIndex += 1
                start = 0
                continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


def _guard_test(
    test: Callable[[etree.Element, str], bool], chars: str
) -> Callable[[etree.Element, str], bool]:
    def guarded(parent: etree.Element, block: str) -> bool:
        return _contains_any(block, chars) and test(parent, block)

    return guarded


def _guard_run(run: Callable[[etree.Element, list[str]], bool | None], chars: str):
    def guarded(parent: etree.Element, blocks: list[str]) -> bool | None:
        if not _contains_any(blocks[0], chars):
            return False  # the library would pop the block, find nothing, put it back: False
        return run(parent, blocks)

    return guarded


def _guard_typed(
    md: markdown.Markdown,
    method: Callable[..., Any],
    needles: tuple[str, ...],
    skipped: Callable[..., Any] = lambda *args: None,
):
    """``method`` only when the source holds one of ``needles``; else what it would have given.

    The source is :class:`SourceNote`'s text: later steps only ever stash text away (behind
    placeholders made of letters and digits), so a needle missing from it is missing later too.
    """

    def guarded(*args: Any) -> Any:
        text = md.prefilter_text  # type: ignore[attr-defined]
        if any(needle in text for needle in needles):
            return method(*args)
        return skipped(*args)

    return guarded


def _priority(registry: Any, name: str) -> float:
    return next(item.priority for item in registry._priority if item.name == name)


def install(md: markdown.Markdown) -> markdown.Markdown:
    """Put the prefilters in front of ``md``'s processors and inline patterns."""
    # Right after whitespace normalization (which drops STX/ETX), before anything is stashed.
    normalize = _priority(md.preprocessors, "normalize_whitespace")
    md.preprocessors.register(SourceNote(md), "prefilter_source", normalize - 1)
    md.prefilter_text = ""  # type: ignore[attr-defined]
    for item in md.preprocessors._priority:
        processor = md.preprocessors[item.name]
        needles = preprocessor_hint(item.name, processor)
        if needles is not None:  # without a needle the library gives back the lines it was given
            processor.run = _guard_typed(md, processor.run, needles, skipped=lambda lines: lines)  # type: ignore[method-assign]
    for item in md.treeprocessors._priority:
        processor = md.treeprocessors[item.name]
        key = (item.name, type(processor).__name__)
        if key in TREE_HINTS:
            processor.run = _guard_typed(md, processor.run, TREE_HINTS[key])  # type: ignore[method-assign]
        if key == TOC_PROCESSOR and getattr(processor, "marker", ""):
            processor.replace_marker = _guard_typed(md, processor.replace_marker, (processor.marker,))
    md.treeprocessors.register(
        PrefilteredInlineProcessor(md), "inline", _priority(md.treeprocessors, "inline")
    )
    for item in md.parser.blockprocessors._priority:
        processor = md.parser.blockprocessors[item.name]
        test_hint, run_hint = block_hints(item.name, processor)
        if test_hint is not None:
            processor.test = _guard_test(processor.test, test_hint)  # type: ignore[method-assign]
        if run_hint is not None:
            processor.run = _guard_run(processor.run, run_hint)  # type: ignore[method-assign]
    return md
