"""Block structure (paragraphs, headings, rules, lists, tables, quotes) the way Python-Markdown splits it.

The library cuts the text at blank lines and offers each block to its block processors in
priority order: list continuations (ListIndentProcessor), tables, hash headings, setext headings,
rules, ordered and bullet lists (with sane_lists), quotes, reference and footnote definitions,
and last paragraphs. This module asks the same questions in the same order, with the library's
own regexes, and builds HTML for the answers it models exactly: nested lists one indent per
level, and an item's further paragraphs one level down. Anything else (indented code, deeper
continuations after a blank line, list items that are not plain text, a quote right after a
quote) raises :class:`Decline`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.reading.markdown_fast_inline import Decline, inline
from pipeline.reading.markdown_fast_tables import is_table, table

# The library's regexes, verbatim (tab_length 4), from markdown.blockprocessors / sane_lists.
HASH_HEADER = re.compile(r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")
SETEXT_UNDERLINE = re.compile(r"(?:=+|-+)[ ]*$")
HR = re.compile(
    r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
    r"(?P=atomicgroup)[ ]*$",
    re.MULTILINE,
)
OLIST = re.compile(r"^[ ]{0,3}\d+\.[ ]+(.*)")
ULIST = re.compile(r"^[ ]{0,3}[*+-][ ]+(.*)")
OLIST_CHILD = re.compile(r"^[ ]{0,3}((\d+\.))[ ]+(.*)")
ULIST_CHILD = re.compile(r"^[ ]{0,3}(([*+-]))[ ]+(.*)")
LIST_INDENT = re.compile(r"^[ ]{4,7}((\d+\.)|[*+-])[ ]+.*")
QUOTE = re.compile(r"(^|\n)[ ]{0,3}>[ ]?(.*)")
QUOTE_LINE = re.compile(r"[ ]{0,3}>[ ]?(.*)")
INDENT = " " * 4  # tab_length
_DIGITS = re.compile(r"(\d+)")  # an ordered list's start number
_ITEM_MARKUP = frozenset("#> \n")  # first characters a block processor may act on
# First characters of a one-line block that a processor before the paragraph may act on: a
# hash heading "#", a rule "-_*", a bullet "*+-", an ordered item (a digit: re's \d is any
# Unicode decimal, so str.isdigit is asked too), a quote ">".
_LINE_MARKUP = frozenset("#-_*+>0123456789")


@dataclass
class Heading:
    level: int
    inner: str  # the heading's inner HTML
    id: str = ""  # given once all headings are known, as the toc extension does


@dataclass
class Item:
    text: str  # the li's own inline HTML ("" once the library moved it into a <p>)
    children: list = field(default_factory=list)  # block nodes after it: <p>s, nested lists


@dataclass
class ListBlock:
    tag: str
    start: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Quote:
    children: list = field(default_factory=list)


def parse_chunk(text: str, out: list, detabbed: bool = False) -> None:
    """Python-Markdown's ``parseChunk``: blank-line separated blocks into ``out``.

    ``detabbed``: the parser's state is "detabbed" (the chunk is a list item's indented
    continuation), where an indented block is code, not more of the item.
    """
    blocks = text.split("\n\n")
    while blocks:
        parse_block(blocks.pop(0), out, blocks, detabbed)


def parse_all(block: str, out: list, detabbed: bool = False) -> None:
    """The library's ``parseBlocks(parent, [block])``: one block and all it gives back."""
    rest = [block]
    while rest:
        parse_block(rest.pop(0), out, rest, detabbed)


def parse_block(block: str, out: list, blocks: list[str], detabbed: bool = False) -> None:
    """One block (and what it gives back to ``blocks``) as the block processors would."""
    if not block:
        return
    if block[0] == "\n":  # EmptyBlockProcessor: drop one newline, go on with the rest
        blocks.insert(0, block[1:])
        return
    if block[0] == " ":
        if not detabbed and block.startswith(INDENT) and out and isinstance(out[-1], ListBlock):
            _indented_continuation(block, out[-1])
            return
        raise Decline  # indented code, a deeper continuation or a stripped paragraph
    first = block[0]
    if "\n" not in block and first not in _LINE_MARKUP and not first.isspace() and not first.isdigit():
        # One line that only the paragraph can take: a table needs two lines, a setext heading
        # its underline, a list, rule, quote or hash heading its first character (not white
        # space, so the block is not blank and lstrip keeps it whole).
        if "[" in block and ":" in block and "]:" in block:
            raise Decline  # a reference or footnote definition
        out.append(f"<p>{inline(block)}</p>")
        return
    parse_general(block, out, blocks, detabbed)


def parse_general(block: str, out: list, blocks: list[str], detabbed: bool = False) -> None:
    """:func:`parse_block` for a block that is not one plain line (and, in tests, for any)."""
    first = block[0]
    if not block.strip():
        return  # (Unicode) white space only: no processor takes it, the paragraph drops it
    lines = block.split("\n")
    # What the later lines start with: the line-anchored regexes below can only match there
    # (or at the block's start), so one pass over the lines saves a scan per regex.
    heads = {line[:1] for line in lines[1:]} if len(lines) > 1 else set()
    if "|" in block and is_table(lines):
        out.append(table(lines))
        return
    if first == "#" and "\n" not in block and "\\" not in block:
        level, header = hash_heading(block)
        out.append(Heading(level, inline(header.strip())))
        return
    if first == "#" or "#" in heads:
        match = HASH_HEADER.search(block)
        if match:
            before, after = block[: match.start()], block[match.end() :]
            if before:
                parse_all(before, out, detabbed)
            out.append(Heading(len(match.group("level")), inline(match.group("header").strip())))
            if after:
                blocks.insert(0, after)
            return
    if len(lines) > 1 and lines[1][:1] in ("=", "-") and SETEXT_UNDERLINE.match(lines[1]):
        # SetextHeaderProcessor: the first line is the heading whatever it holds ("- a" too)
        out.append(Heading(1 if lines[1][0] == "=" else 2, inline(lines[0].strip())))
        if len(lines) > 2:
            blocks.insert(0, "\n".join(lines[2:]))
        return
    if (first in "-_*" or not heads.isdisjoint("-_* ")) and (match := _rule(block, lines)):
        # HRProcessor: the lines before the rule parsed first, the lines after given back
        before = block[: match.start()].rstrip("\n")
        if before:
            parse_all(before, out, detabbed)
        out.append("<hr>")
        after = block[match.end() :].lstrip("\n")
        if after:
            blocks.insert(0, after)
        return
    if (first == " " or first.isdigit()) and OLIST.match(block):  # re's \d: a decimal, so a digit
        _list(block, "ol", OLIST_CHILD, out)
    elif first in " *+-" and ULIST.match(block):
        _list(block, "ul", ULIST_CHILD, out)
    elif (first == ">" or not heads.isdisjoint("> ")) and (match := QUOTE.search(block)):
        _quote(block, match, out, detabbed)
    elif "[" in block and ":" in block and "]:" in block:
        raise Decline  # a reference or footnote definition
    else:
        out.append(f"<p>{inline(block.lstrip())}</p>")


def hash_heading(line: str) -> tuple[int, str]:
    """HASH_HEADER's level and header for one line that starts with "#" and holds no backslash.

    The regex then matches the whole line (its search tries every position): at most six
    "#" are the level, the rest without its closing "#"s is the header (each "#" run inside
    it is followed by other text, as the header's ``#+(?=[^#\n])`` wants).
    """
    level = min(6, len(line) - len(line.lstrip("#")))
    return level, line[level:].rstrip("#")


def _rule(block: str, lines: list[str]) -> re.Match[str] | None:
    """``HR.search(block)``, tried only at the starts of lines made of spaces and "-_*" alone.

    A rule's match is one whole line of them (the search tries every position of the block).
    """
    offset = 0
    for line in lines:
        if line and not line.strip(" -_*"):
            match = HR.match(block, offset)
            if match:
                return match
        offset += len(line) + 1
    return None


def _plain_item(text: str) -> str:
    """A list item's text, which the library parses as a block of its own: only plain text here."""
    first = text[:1]
    if (
        first
        and "\n" not in text
        and first not in _ITEM_MARKUP
        and not first.isdigit()
        and not (first in "*+-" and text[1:2] == " ")
        and not (first in "-_*" and not text.strip(first + " "))
        and text.strip()
        and not ("[" in text and ":" in text and "]:" in text)
    ):
        # One line that no block processor before the paragraph can take (a table needs two
        # lines, a heading "#", a list its marker and a space, a rule only its character and
        # spaces, a quote ">"): the paragraph's text. "**Fet** text" is one.
        return inline(text.lstrip())
    return parsed_item(text)


def parsed_item(text: str) -> str:
    """:func:`_plain_item` the general way: the item's block parsed, one paragraph or Decline."""
    if not text.strip():
        raise Decline
    probe: list = []
    parse_all(text, probe)
    if len(probe) != 1 or not isinstance(probe[0], str) or not probe[0].startswith("<p>"):
        raise Decline
    return probe[0][3:-4]


def _list(block: str, tag: str, child: re.Pattern[str], out: list) -> None:
    """OListProcessor / UListProcessor (sane_lists): one block of items, perhaps nested ones."""
    items: list[str] = []
    start = "1"
    for line in block.split("\n"):
        match = child.match(line)
        if match:
            if not items and tag == "ol":
                start = _DIGITS.match(match.group(1)).group()  # type: ignore[union-attr]
            items.append(match.group(3))
        elif LIST_INDENT.match(line) and not items[-1].startswith(INDENT):
            items.append(line)  # a nested list starts: an item of its own, parsed in the last li
        else:
            items[-1] = f"{items[-1]}\n{line}"
    sibling = out[-1] if out else None
    if isinstance(sibling, ListBlock) and sibling.tag == tag:
        # A list going on after a blank line: the library wraps the last item's text and the
        # first new item in <p> (a "loose" list); later items of this block stay tight.
        _to_paragraph(sibling.items[-1])
        sibling.items.append(Item("", [f"<p>{_plain_item(items[0])}</p>"]))
        items = items[1:]
        target = sibling
    else:
        target = ListBlock(tag, start)
        out.append(target)
    for item in items:
        if item.startswith(INDENT):
            _nested(item, target.items[-1])
        else:
            target.items.append(Item(_plain_item(item)))


def _nested(item: str, parent: Item) -> None:
    """ListIndentProcessor in a tight list: the indented lines, detabbed, are a list in ``parent``."""
    if parent.children and isinstance(parent.children[-1], ListBlock):
        raise Decline  # the library parses them into that list: not modelled
    probe: list = []
    parse_all(_loose_detab(item), probe)
    if len(probe) != 1 or not isinstance(probe[0], ListBlock):
        raise Decline
    parent.children.append(probe[0])


def _indented_continuation(block: str, sibling: ListBlock) -> None:
    """ListIndentProcessor after a blank line: more blocks of the list's last item (one level)."""
    if block.startswith(INDENT * 2):
        raise Decline  # a deeper level: the library walks down into nested lists
    item = sibling.items[-1]
    _to_paragraph(item)
    parse_chunk(_loose_detab(block), item.children, detabbed=True)


def _to_paragraph(item: Item) -> None:
    """The library moves a li's text into a <p> of its own once the item gets more blocks."""
    if item.text:
        item.children.insert(0, f"<p>{item.text}</p>")
        item.text = ""


def _loose_detab(text: str) -> str:
    """BlockProcessor.looseDetab: one indent off every line that has it."""
    return "\n".join(line[4:] if line.startswith(INDENT) else line for line in text.split("\n"))


def _quote(block: str, match: re.Match[str], out: list, detabbed: bool) -> None:
    before = block[: match.start()]
    if before:
        parse_all(before, out, detabbed)
    if out and isinstance(out[-1], Quote):
        raise Decline  # the library merges it into the quote before
    lines = []
    for line in block[match.start() :].split("\n"):
        cleaned = QUOTE_LINE.match(line)
        lines.append("" if line.strip() == ">" else cleaned.group(1) if cleaned else line)
    quote = Quote()
    parse_chunk("\n".join(lines), quote.children)  # the state is "blockquote" in there
    out.append(quote)
