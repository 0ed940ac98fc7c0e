"""Splitting a Markdown file into YAML front matter and body, keeping line numbers.

YAML is read as PyYAML *BaseLoader* parser events: no implicit typing at all, so every scalar stays
the string the author typed. An unquoted ``17.10`` stays ``"17.10"`` (not the float 17.1), ``no``
stays ``"no"`` (not False) and a date stays text until :mod:`pipeline.reading.dates` parses it. No tag can
construct a Python object. Each value keeps the line it was written on, for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.locale.cli import tr
from pipeline.reading import frontmatter_fast
from pipeline.reading.frontmatter_tree import Field, Value

if TYPE_CHECKING:
    import yaml

__all__ = ["Document", "Field", "FrontMatterError", "Value", "split"]

# PyYAML (25 ms to import) is imported by the functions of the general path, which reads only
# what the fast reader (pipeline.reading.frontmatter_fast) declines: an edit build's files
# usually never need it.


@dataclass(frozen=True)
class Document:
    meta: dict[str, Field]
    body: str
    body_line: int  # 1-based line where the body starts
    meta_line: int  # 1-based line of the opening ---
    # True when the fast reader read the front matter: then no key or value holds a control
    # character or a line break (it declines on any), which spares validation its search. Not
    # part of equality: the same text read either way is the same document.
    plain: bool = field(default=False, compare=False)


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def split(text: str) -> Document:
    """Parse ``---``-delimited front matter at the top of ``text`` (already LF-normalised).

    The lines are found with ``str.find`` rather than by splitting the whole file: only the
    front matter's few lines are looked at, and the body is one slice of ``text``.
    """
    opening = start = text.find("\n") + 1  # where line 2 starts; 0 when there is none
    if (text[: start - 1] if start else text).strip() != "---":
        raise FrontMatterError(1, tr("missing front matter: the file must start with a line '---'"))
    index = 0  # of the line starting at ``start``, counted from 0 like lines of text.split("\n")
    while start:
        index += 1
        newline = text.find("\n", start)
        line = text[start:newline] if newline >= 0 else text[start:]
        if line.strip() in ("---", "..."):
            yaml_text = text[opening : max(start - 1, opening)]
            # The fast reader first when the text is surely within the size limit: a text it
            # reads holds none of the characters _parse_yaml's control check refuses (it declines
            # on every one), so that check could only pass.
            meta = frontmatter_fast.parse(yaml_text, 2) if len(yaml_text) <= _SURELY_SMALL else None
            plain = meta is not None
            if meta is None:
                meta = _parse_yaml(yaml_text, first_line=2, fast=False)
            body = text[newline + 1 :] if newline >= 0 else ""
            return Document(meta=meta, body=body, body_line=index + 2, meta_line=1, plain=plain)
        start = newline + 1
    raise FrontMatterError(1, tr("front matter is not closed: add a line '---' after it"))


# Front matter is a handful of short lines; anything near this size is a mistake or an attack.
MAX_FRONT_MATTER_BYTES = 64 * 1024
# Characters a text may hold and still be within MAX_FRONT_MATTER_BYTES whatever they are (UTF-8
# writes a character in at most 4 bytes): below it the size needs no encoding to be checked.
_SURELY_SMALL = MAX_FRONT_MATTER_BYTES // 4
# Control characters YAML would either refuse with a two-line message or carry into a value;
# a tab is allowed (it may separate a value from its key), CR never survives LF-normalising.
_CONTROL = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029]")
# title: …, targets: [ … ] needs two levels; unknown keys may nest a little deeper.
MAX_DEPTH = 8


def _tree(yaml_text: str, offset: int) -> Field | None:
    """Events are consumed as they are parsed, so a refusal (an alias, the depth limit) stops
    the parser at once: 5,000 nested brackets cost microseconds, not a full parse."""
    import yaml

    # libyaml's parser makes the same events (with the same line marks) about 8x faster than
    # the pure-Python one. Its error messages are worded differently, so invalid YAML is parsed
    # again by the pure-Python parser, whose messages are the ones reported.
    c_loader = getattr(yaml, "CBaseLoader", None)
    if c_loader is not None:
        try:
            return _compose(yaml.parse(yaml_text, Loader=c_loader), offset)
        except yaml.YAMLError:
            pass
    return _compose(yaml.parse(yaml_text, Loader=yaml.BaseLoader), offset)


def _parse_yaml(yaml_text: str, first_line: int, fast: bool = True) -> dict[str, Field]:
    """The front matter's value tree, or :class:`FrontMatterError`; ``fast``: try the fast reader."""
    offset = first_line - 1
    size = len(yaml_text.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(
            first_line,
            tr(
                "front matter is {size} bytes, more than the {limit} allowed: "
                "keep it to short key: value lines and put the text in the body",
                size=size,
                limit=MAX_FRONT_MATTER_BYTES,
            ),
        )
    control = _CONTROL.search(yaml_text)
    if control:
        line = first_line + yaml_text.count("\n", 0, control.start())
        raise FrontMatterError(
            line,
            tr(
                "the front matter contains the control character U+{code:04X}; remove it",
                code=ord(control.group()),
            ),
        )
    read = frontmatter_fast.parse(yaml_text, first_line) if fast else None
    if read is not None:
        return read
    import yaml

    try:
        converted = _tree(yaml_text, offset)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + offset) if mark else first_line
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise FrontMatterError(line, tr("invalid YAML: {reason}", reason=" ".join(problem.split()))) from None
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)  # a ReaderError: a character YAML cannot read
        line = first_line + (yaml_text.count("\n", 0, position) if isinstance(position, int) else 0)
        reason = getattr(exc, "reason", None) or str(exc).split("\n", 1)[0]
        raise FrontMatterError(
            line, tr("invalid YAML: {reason}", reason=" ".join(str(reason).split()))
        ) from None
    if converted is None:
        return {}
    if not isinstance(converted.value, dict):
        raise FrontMatterError(converted.line, tr("front matter must be 'key: value' lines"))
    return converted.value


def _compose(events: Iterable[yaml.Event], offset: int) -> Field | None:
    """The document's value tree, built from the parser's events without PyYAML's composer.

    Aliases, anchors and merge keys are refused *here*, event by event, before anything is
    built: an alias shares a node, and walking a few nested aliases (a "billion laughs" of
    1 KB) would expand into gigabytes. Without them every event is used once, so the tree is
    never larger than the text. Iterative, with a depth limit, so deep nesting cannot
    overflow the stack either.
    """
    import yaml

    # Each open collection: [line, list of Field] or [line, dict, pending key or None, key line].
    stack: list[list] = []
    root: Field | None = None
    documents = 0

    def line_of(event: yaml.Event) -> int:
        return event.start_mark.line + 1 + offset

    def add(value: Field, event: yaml.Event, is_scalar_key: bool) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top[1], list):
            top[1].append(value)
        elif top[2] is None:
            if not is_scalar_key:
                raise FrontMatterError(line_of(event), tr("keys must be plain words"))
            key = value.value
            assert isinstance(key, str)
            if key == "<<":
                raise FrontMatterError(
                    value.line, tr("YAML merge keys ('<<') are not allowed in front matter")
                )
            if key in top[1]:
                raise FrontMatterError(value.line, tr("key '{key}' is given twice", key=key))
            top[2], top[3] = key, value.line
        else:
            top[1][top[2]] = Field(value.value, top[3])
            top[2] = None

    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterError(
                line_of(event),
                tr("YAML aliases ('*{anchor}') are not allowed in front matter", anchor=event.anchor),
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise FrontMatterError(
                line_of(event),
                tr("YAML anchors ('&{anchor}') are not allowed in front matter", anchor=anchor),
            )
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise FrontMatterError(line_of(event), tr("front matter must be a single YAML document"))
        elif isinstance(event, yaml.ScalarEvent):
            add(Field(event.value, line_of(event)), event, True)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise FrontMatterError(
                    line_of(event), tr("front matter nests deeper than {depth} levels", depth=MAX_DEPTH)
                )
            if stack and isinstance(stack[-1][1], dict) and stack[-1][2] is None:
                raise FrontMatterError(line_of(event), tr("keys must be plain words"))
            if isinstance(event, yaml.SequenceStartEvent):
                stack.append([line_of(event), []])
            else:
                stack.append([line_of(event), {}, None, 0])
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            line, value = stack.pop()[:2]
            add(Field(value, line), event, False)
    return root
