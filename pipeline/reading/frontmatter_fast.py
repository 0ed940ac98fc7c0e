"""The front matter updates are written in, read without a YAML parser, or declined.

:func:`pipeline.reading.frontmatter.split` reads YAML through libyaml's event stream and composes
its own tree in Python, which costs about 85 µs for six short lines. Nearly every update's front
matter is the same small subset of YAML: top-level ``key: value`` lines whose values are plain,
single-quoted or double-quoted (escape-free) scalars on one line, flow sequences of such scalars
on one line, or block sequences of them (``- item`` lines). :func:`parse` reads exactly that
subset with a few regular expressions, giving the value tree the general path gives, and returns
None (declines) on anything else, so the general path keeps every other answer and every error
message. It never accepts anchors, aliases, tags, merge keys, comments, tabs, multi-line
scalars, escapes, duplicate keys or nesting deeper than a list in a key: those all decline.
``tests/test_frontmatter_fast.py`` holds the differential tests.
"""

from __future__ import annotations

import re

from pipeline.reading.frontmatter_tree import Field

# Every repetition below is possessive (*+): a token is read the one way YAML's scanner reads
# it, and a line that does not match fails in linear time (with backtracking, 4,000 blanks
# before a '#' took seconds, and the 64 KiB front matter allowed would take hours).
# A key: a short word. Longer or stranger keys (libyaml refuses simple keys over 1,024
# characters, YAML allows quoted and complex keys) go to the general path.
_KEY = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
# Characters a token may not start with: YAML's indicators (a plain scalar starting with one of
# them means something else or is an error), quotes (handled on their own) and blanks.
_NOT_START = r" \-?:,\[\]{}#&*!|>'\"%@`"
# A plain scalar in block context: no '#' at all (no comments, nor '#' inside a value), and a
# ':' only when a character other than a blank, '#' or ':' follows it (': ' or a final ':'
# would start a mapping). Matched with its trailing blanks, which are not part of the value.
_PLAIN = rf"[^{_NOT_START}][^#:]*+(?::[^ #:][^#:]*+)*+"
# A double-quoted scalar without escapes and a single-quoted one ('' is a quote).
_DOUBLE = r'"[^"\\]*+"'
_SINGLE = r"'[^']*+(?:''[^']*+)*+'"
# A plain scalar inside [ ]: none of the flow indicators, no ':' and no quotes anywhere.
_FLOW_PLAIN = rf"[^{_NOT_START}][^#:,\[\]{{}}'\"]*+"
_FLOW_ITEM = rf"(?:{_DOUBLE}|{_SINGLE}|{_FLOW_PLAIN})"
_FLOW = rf"\[ *+(?:{_FLOW_ITEM} *+(?:, *+{_FLOW_ITEM} *+)*+)?\]"

# key: value, key: [a, b], or key: (with nothing after it: an empty value or a block sequence).
_KEY_LINE = re.compile(rf"({_KEY}):(?: ++({_DOUBLE}|{_SINGLE}|{_FLOW}|{_PLAIN}))? *+")
_ITEM_LINE = re.compile(rf"( *+)- ++({_DOUBLE}|{_SINGLE}|{_PLAIN}) *+")
_FLOW_ITEMS = re.compile(rf"({_FLOW_ITEM}) *+(?:,|\]$)")
# Anything outside what the expressions above may meet: tabs, other line breaks, a BOM,
# control characters, noncharacters and surrogates that YAML's reader refuses. Written as the
# characters it matches, the complement of "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe
# \uff00-\ufffd\U00010000-\U0010ffff]" (the same set, checked for every code point by
# tests/test_cli_imports.py): the negated form took 15-40 ms to compile, in every build.
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _scalar(token: str) -> str:
    if token[0] == '"':
        return token[1:-1]
    if token[0] == "'":
        return token[1:-1].replace("''", "'")
    return token.rstrip(" ")


# Field(value, line) without the named tuple's Python-level __new__: the same instance.
_tuple = tuple.__new__


def parse(yaml_text: str, first_line: int) -> dict[str, Field] | None:
    """The front matter's fields, as the general path would give them, or None to decline.

    ``first_line`` is the file's line number of ``yaml_text``'s first line. Declining is always
    safe: the caller then parses with the general path, which also reports every error. The
    size limit is the caller's to check first (``frontmatter.MAX_FRONT_MATTER_BYTES``).
    """
    if not yaml_text:
        return None
    meta: dict[str, Field] = {}
    items: list[Field] | None = None  # the block sequence being read, if any
    indent = -1  # its items' indentation, once its first item is seen
    pending: tuple[str, int] | None = None  # a key given no value on its line
    key_line, item_line, flow_items, make = (
        _KEY_LINE.fullmatch,
        _ITEM_LINE.fullmatch,
        _FLOW_ITEMS.findall,
        _tuple,
    )
    for number, line in enumerate(yaml_text.split("\n"), first_line):
        if not line:
            continue
        # Every character _UNUSUAL matches is one str.isprintable refuses (controls, line and
        # paragraph separators, surrogates, the BOM, noncharacters), so a printable line holds
        # none; isprintable costs a quarter of the expression's character-class scan.
        if not line.isprintable() and _UNUSUAL.search(line):
            return None
        if pending is not None and (line[0] == " " or line[0] == "-"):
            found = item_line(line)
            if found is None:
                return None
            if items is None:
                items, indent = [], len(found.group(1))
                meta[pending[0]] = make(Field, (items, pending[1]))
            elif len(found.group(1)) != indent:
                return None
            items.append(make(Field, (_scalar(found.group(2)), number)))
            continue
        if pending is not None and items is None:
            meta[pending[0]] = make(Field, ("", pending[1]))
        pending, items = None, None
        found = key_line(line)
        if found is None:
            return None
        key, token = found.group(1, 2)
        if key in meta:
            return None
        if token is None:
            pending = (key, number)
            continue
        first = token[0]  # _scalar's cases inline: the commonest line is one key and one value
        if first == "[":
            value: str | list[Field] = [make(Field, (_scalar(item), number)) for item in flow_items(token, 1)]
        elif first == '"':
            value = token[1:-1]
        elif first == "'":
            value = token[1:-1].replace("''", "'")
        else:
            value = token.rstrip(" ")
        meta[key] = make(Field, (value, number))
    if pending is not None and items is None:
        meta[pending[0]] = make(Field, ("", pending[1]))
    return meta
