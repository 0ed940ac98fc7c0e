"""Python-Markdown's inline pass, minus the regex searches that cannot match.

Python-Markdown applies its inline patterns one after another to every run of text: each
paragraph, list item, heading and table cell is searched about fifteen times, and some of the
patterns are slow to search even when they find nothing. The backtick pattern starts with a
lookbehind, so Python's ``re`` tries it at every position: about 17 µs per paragraph, a third of
the inline pass on typical updates. Most text holds no backtick at all.

:class:`SkippingInlineProcessor` replaces the library's ``inline`` tree processor. Before it
applies a pattern it asks the cheap question "could this pattern match here at all?": every
match of a known built-in pattern contains one of a few characters (a backtick, ``[``, ``<``,
``*`` …), and ``str.find`` answers that in C. Patterns without such a hint are pre-checked with
their own regex. When the answer is no, the library's own code would have found no match and
moved on to the next pattern; when it is yes, the library's own code runs. The output is
therefore the library's output, byte for byte (``tests/test_markdown_inline.py`` compares the
two on the example content, the benchmark corpus and thousands of generated snippets), while a
cold build spends about a quarter less time in Markdown.

A hint applies only to the exact regex it was written for: a Python-Markdown release that
changes a pattern falls back to the plain pre-check (correct, a little slower) until the hint is
reviewed, and a test reports the missing hint.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
from markdown import inlinepatterns, treeprocessors, util

# (registry name, regex source) → characters of which every match holds at least one, inside
# the text searched (from the start index on, lookaheads included). Reviewed against
# Python-Markdown 3.5–3.11; see the module docstring for what happens when a pattern changes.
HINTS: dict[tuple[str, str], str] = {
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
# The html pattern is long; it is known by its name and its opening "(<" instead.
HTML_PATTERN = "html"


def hint_for(name: str, source: str) -> str | None:
    """The characters a match of the named built-in pattern must contain, if known."""
    if name == HTML_PATTERN and source.startswith("(<(") and source.endswith(")>)"):
        # Every alternative sits between a literal "<" and a literal ">".
        return "<"
    return HINTS.get((name, source))


class SkippingInlineProcessor(treeprocessors.InlineProcessor):
    """The library's inline processor with a cheap "cannot match" test in front of each pattern."""

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        names = [item.name for item in self.inlinePatterns._priority]
        self._table = []
        for name, pattern in zip(names, self.inlinePatterns, strict=True):
            if isinstance(pattern, inlinepatterns.InlineProcessor):
                regex = pattern.getCompiledRegExp()
                self._table.append((pattern, regex, hint_for(name, regex.pattern)))
            else:  # a legacy pattern matches differently: always hand it to the library
                self._table.append((pattern, None, None))
        return super().run(tree, ancestors)

    # Name-mangled override of InlineProcessor.__handleInline: the library calls it for every
    # run of text, recursively for the text inside what a pattern matched.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, util.AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern
        table = self._table
        count = len(table)
        start = 0
        while patternIndex < count:
            pattern, regex, hint = table[patternIndex]
            if regex is not None:
                if hint is None:
                    possible = regex.search(data, start) is not None
                else:
                    for char in hint:
                        if data.find(char, start) >= 0:
                            possible = True
                            break
                    else:
                        possible = False
                if not possible:
                    # What the library does when a pattern finds nothing: next pattern, from 0.
                    patternIndex += 1
                    start = 0
                    continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


def install(md: markdown.Markdown) -> markdown.Markdown:
    """Swap ``md``'s inline processor for the skipping one (same name and priority)."""
    priority = next(item.priority for item in md.treeprocessors._priority if item.name == "inline")
    md.treeprocessors.register(SkippingInlineProcessor(md), "inline", priority)
    return md
