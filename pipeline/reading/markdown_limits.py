"""Markdown shapes refused before rendering, so no update can hang or crash the build.

Python-Markdown takes time growing with the square of a paragraph's length for some shapes and
overflows its stack on lists nested hundreds deep; :func:`check_unclosed` refuses those shapes
with a message saying how to fix the text (docs/architecture.md, "Reading content").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pipeline.locale.cli import tr

# Python-Markdown looks for the end of a link, an image or a tag from every '[', '(' and '<'
# that has none: with a few thousand such openers in one paragraph the time grows with their
# number times the paragraph's length (4,000 "[a](" take 8 s, a 1 MiB file would take hours).
# A paragraph may cost this many opener-characters, an update four times as many; ordinary
# text with hundreds of finished links costs nothing.
PARAGRAPH_SCAN_LIMIT = 2_000_000
UPDATE_SCAN_LIMIT = 4 * PARAGRAPH_SCAN_LIMIT
_OPENERS = {"[": "]", "(": ")", "<": ">"}
# Block-level shapes Python-Markdown handles in quadratic time or by recursion: a paragraph of
# thousands of lines (each "---" or "===" line splits it once more), thousands of footnotes,
# lists nested hundreds deep (RecursionError). Far beyond anything an update needs.
PARAGRAPH_LINE_LIMIT = 300
# Inline patterns (code spans, emphasis, entities) are tried across a whole paragraph; some take
# time growing with its length squared. 20,000 characters is about 3,000 words in one paragraph.
# A table is read cell by cell: there the limit applies to each row.
PARAGRAPH_CHAR_LIMIT = 20_000
FOOTNOTE_LIMIT = 500
INDENT_LIMIT = 64  # columns of leading blanks: lists nested 16 deep
# A line starting with more blanks than INDENT_LIMIT allows tabs (4 columns each), searched for in
# "\n" + body: a literal first character lets the regex engine skip ahead, about ten times faster
# than ^ in MULTILINE mode.
_DEEP_INDENT = re.compile(rf"\n[ \t]{{{INDENT_LIMIT // 4 + 1}}}")
_DEEP_SPACES = " " * (INDENT_LIMIT // 4 + 1)  # the same run of blanks in a body without tabs


def _paragraphs(body: str, first_line: int) -> Iterable[tuple[int, str]]:
    """(line, text) of each blank-line separated paragraph outside fenced code blocks."""
    lines: list[str] = []
    start = first_line
    fence = ""
    for number, line in enumerate(body.split("\n"), first_line):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        if fence or not line.strip():
            if lines:
                yield start, "\n".join(lines)
            lines = []
            continue
        if not lines:
            start = number
        lines.append(line)
    if lines:
        yield start, "\n".join(lines)


def _unclosed(text: str) -> int:
    """How many '[', '(' and '<' in ``text`` are never closed."""
    depth = dict.fromkeys(_OPENERS, 0)
    closers = {close: open_ for open_, close in _OPENERS.items()}
    for char in text:
        if char in depth:
            depth[char] += 1
        elif char in closers and depth[closers[char]]:
            depth[closers[char]] -= 1
    return sum(depth.values())


def _within_limits_for_sure(paragraphs: list[tuple[int, str]]) -> bool:
    """True when even counting every opener as unclosed stays within both scan limits.

    Counting the openers is done in C (``str.count``); pairing them is a Python loop over every
    character, half a millisecond per ordinary update. An unclosed count is never more than the
    openers, so when this bound passes, the exact check below could only pass too.
    """
    total = 0
    for _line, text in paragraphs:
        cost = sum(text.count(opener) for opener in _OPENERS) * len(text)
        if cost > PARAGRAPH_SCAN_LIMIT:
            return False
        total += cost
    return total <= UPDATE_SCAN_LIMIT


def _surely_within_limits(body: str) -> bool:
    """True when no paragraph-level check can refuse ``body``, shown by counts made in C.

    Every paragraph is a run of the body's lines, and every table row one line: none is longer
    than the body or has more lines than it. A paragraph's opener cost is at most all of the
    body's openers times the body's length, and so is the sum over paragraphs. An ordinary
    update (a few thousand characters, dozens of lines, a few dozen brackets) is proved safe
    without being cut into paragraphs at all.
    """
    size = len(body)
    if size > PARAGRAPH_CHAR_LIMIT or body.count("\n") + 1 > PARAGRAPH_LINE_LIMIT:
        return False
    # str.count compares every character in a plain loop; "in" is a memchr, many characters an
    # instruction: an opener that is not there (most bodies have no "<") is not counted.
    openers = 0
    for opener in _OPENERS:
        if opener in body:
            openers += body.count(opener)
    return openers * size <= min(PARAGRAPH_SCAN_LIMIT, UPDATE_SCAN_LIMIT)


def _deep_indent(body: str) -> bool:
    """Whether a line of ``body`` starts with more blanks than INDENT_LIMIT allows tabs.

    Without a tab that is a line starting with as many spaces, which ``in`` (a skipping string
    search) rules out far faster than the regex's scan of every newline; most bodies hold neither.
    """
    if "\t" not in body and not body.startswith(_DEEP_SPACES) and "\n" + _DEEP_SPACES not in body:
        return False
    return _DEEP_INDENT.search("\n" + body) is not None


def check_unclosed(body: str, body_line: int, problem: Callable[..., None]) -> None:
    """Refuse text that would make Markdown take minutes or overflow its stack (see
    PARAGRAPH_SCAN_LIMIT and PARAGRAPH_LINE_LIMIT): a build must never hang on what an author wrote."""
    footnotes = 0
    # The per-row checks below look for deep indents and footnote definitions; most bodies have
    # neither, which two C-speed searches can tell (17 blanks: 16 tabs are only 64 columns).
    footnote_marks = body.count("[^") if "^" in body else 0  # a memchr for "^" spares most bodies the count
    deep = _deep_indent(body)
    # Rows can only be refused for a deep indent or for more footnote definitions (rows starting
    # with "[^") than FOOTNOTE_LIMIT; with neither possible, the counts above may settle it all.
    if not deep and footnote_marks <= FOOTNOTE_LIMIT and _surely_within_limits(body):
        return
    check_rows = footnote_marks > 0 or deep
    paragraphs = list(_paragraphs(body, body_line))
    for line, text in paragraphs:
        rows = text.split("\n")
        table = all(row.lstrip().startswith("|") for row in rows)
        runs = rows if table else [text]
        longest = max(len(run) for run in runs)
        if longest > PARAGRAPH_CHAR_LIMIT:
            message = (
                tr(
                    "this table row has {n} characters (at most {limit}): split it with blank lines",
                    n=longest,
                    limit=PARAGRAPH_CHAR_LIMIT,
                )
                if table
                else tr(
                    "this paragraph has {n} characters (at most {limit}): split it with blank lines",
                    n=longest,
                    limit=PARAGRAPH_CHAR_LIMIT,
                )
            )
            problem(line, message)
            return
        if len(rows) > PARAGRAPH_LINE_LIMIT and not table:
            problem(
                line,
                tr(
                    "this paragraph has {n} lines (at most {limit}): split it with blank lines",
                    n=len(rows),
                    limit=PARAGRAPH_LINE_LIMIT,
                ),
            )
            return
        for offset, row in enumerate(rows if check_rows else ()):
            indent = (
                len(row) - len(row.lstrip(" \t")) + 3 * row[: len(row) - len(row.lstrip(" \t"))].count("\t")
            )
            if indent > INDENT_LIMIT:
                problem(
                    line + offset,
                    tr(
                        "this line is indented {n} columns (at most {limit}): lists nest too deep",
                        n=indent,
                        limit=INDENT_LIMIT,
                    ),
                )
                return
            if row.startswith("[^") and "]:" in row:
                footnotes += 1
    if footnotes > FOOTNOTE_LIMIT:
        problem(
            body_line, tr("the text has {n} footnotes (at most {limit})", n=footnotes, limit=FOOTNOTE_LIMIT)
        )
        return
    if not any(opener in body for opener in _OPENERS):
        return
    if _within_limits_for_sure(paragraphs):
        return
    total = 0
    for line, text in paragraphs:
        open_count = _unclosed(text)
        cost = open_count * len(text)
        total += cost
        if cost > PARAGRAPH_SCAN_LIMIT:
            problem(
                line,
                tr(
                    "this paragraph has {n} unclosed '[', '(' or '<' in {length} characters, "
                    "which would take Markdown minutes to read: close them, escape them as \\[ \\( \\<, "
                    "or split the paragraph",
                    n=open_count,
                    length=len(text),
                ),
            )
            return
    if total > UPDATE_SCAN_LIMIT:
        problem(
            body_line,
            tr(
                "the text has too many unclosed '[', '(' or '<' for Markdown to read it in reasonable time: "
                "close them or escape them as \\[ \\( \\<"
            ),
        )
