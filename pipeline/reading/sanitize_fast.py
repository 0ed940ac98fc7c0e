"""nh3's exact output for the HTML Markdown emits, without nh3, or a refusal (None).

Markdown without raw HTML gives a small, regular part of HTML: a few dozen tags, double-quoted
attributes, properly nested elements, entities only where text needs them. For such input the
sanitizer (ammonia: html5ever's parse, an allow-list, html5ever's serializer) changes nothing but
a few details, all reproduced here:

* attributes outside the allow-list are dropped (``<div class="toc">`` → ``<div>``), the others
  keep their order;
* a URL in ``href``/``src`` without a scheme goes through the resolver (once per attribute, in
  document order, so its lookups and warnings are those of nh3's pass); a ``None`` answer drops the
  attribute the way ammonia does (``swap_remove``: the last attribute takes its place); a URL with a
  scheme outside the allowed ones is dropped, one inside is kept as written;
* character references are decoded and the text re-escaped as html5ever serializes it: ``&``,
  ``<``, ``>`` and U+00A0 in text, the same and ``"`` in attribute values; ``<br />`` → ``<br>``.

Everything else declines, before the resolver is called once: a tag outside :data:`GRAMMAR`, an
attribute not written ``name="value"``, a misnested or unclosed element, an element where
html5ever's tree builder would move or close something (a block inside a paragraph, text in a
table outside a cell, a link inside a link, a newline right after ``<pre>``), a reference that is
not complete (``&name;`` from the HTML5 table, ``&#…;`` of an ordinary character), a URL whose
parse by ammonia's ``url`` crate is not certain, CR, NUL, lone surrogates. The caller then runs
nh3 itself. ``tests/test_sanitize_fast*.py`` hold the differential tests against nh3.

HTML that :mod:`pipeline.reading.markdown_fast` wrote is nested within the grammar by
construction, and that path says so (``Rendered.vouched``): :meth:`FastCleaner.clean_vouched`
then cleans only its tags with attributes and its references, without walking every tag
(``tests/test_sanitize_vouched.py`` compares it with :meth:`FastCleaner.clean` and nh3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from pipeline.reading.sanitize_fast_escapes import (
    REFERENCE,
    Decline,
    decode,
    escape_attribute,
    escape_text,
    reference_escaped,
    stream_keeps,
)
from pipeline.reading.sanitize_fast_urls import url_kind

# Element → the elements it may hold here. "#" is the fragment's root (ammonia parses in a
# <div> context). Only the shapes Markdown writes: phrasing elements hold phrasing, a paragraph
# or heading never holds a block (html5ever would close it), tables are table/thead|tbody/tr/td.
_PHRASING = frozenset({"a", "em", "strong", "code", "img", "br", "sup"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_FLOW = _PHRASING | {"p", *_HEADINGS, "ul", "ol", "blockquote", "div", "pre", "hr", "table"}
GRAMMAR: dict[str, frozenset[str]] = {
    "#": _FLOW,
    "li": _FLOW,
    "blockquote": _FLOW,
    "div": _FLOW,
    "ul": frozenset({"li"}),
    "ol": frozenset({"li"}),
    "table": frozenset({"thead", "tbody"}),
    "thead": frozenset({"tr"}),
    "tbody": frozenset({"tr"}),
    "tr": frozenset({"th", "td"}),
    **{name: _PHRASING for name in ("p", *_HEADINGS, "td", "th", "pre")},
    "a": _PHRASING - {"a"},
    **{name: _PHRASING for name in ("em", "strong", "code", "sup")},
    "img": frozenset(),
    "br": frozenset(),
    "hr": frozenset(),
}
_VOID = frozenset({"img", "br", "hr"})
_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tr"})  # text there must be whitespace
# Attributes whose values are plain text to ammonia; the URL ones are ``href`` and ``src``. An
# allowed attribute outside both (a future ``cite``, ``srcset`` …) makes the fast path decline.
_PLAIN_ATTRIBUTES = frozenset(
    {"id", "lang", "title", "alt", "width", "height", "colspan", "rowspan", "align", "scope", "start"}
    | {"class", "hreflang", "datetime"}
)
_URL_ATTRIBUTES = frozenset({"href", "src"})

_SPLIT = re.compile(r"(<[^<>]*>)").split
_START = re.compile(r'([a-z][a-z0-9]*)((?: [a-z][a-z-]*="[^"]*")*)( /)?')
_NAME = re.compile(r"[a-z][a-z-]*").fullmatch  # an attribute name as Markdown writes them
_ATTRIBUTE = re.compile(r' ([a-z][a-z-]*)="([^"]*)"')
_CACHE_LIMIT = 1 << 16
# For the vouched path: the tags that carry attributes, the only ones it may have to change.
_WITH_ATTRIBUTES = re.compile(r"(<[a-z][a-z0-9]* [^<>]*>)").split
# The same split when no tag it finds holds a "<" after its first character: [^>]* runs as one
# C loop per tag where [^<>]* tests a character class at each character (a seventh of finishing's
# instructions went to that class). A "<" inside would mean the exact split starts a tag there.
# Possessive (*+): giving characters back could never let the " " or the ">" after them match.
_WITH_ATTRIBUTES_QUICK = re.compile(r"(<[a-z][a-z0-9]*+ [^>]*+>)").split
# Every element pipeline.reading.markdown_fast writes (its blocks, inline markup, fenced code
# and table of contents).
_RENDERER_ELEMENTS = frozenset(
    {"p", *_HEADINGS, "hr", "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td"}
    | {"pre", "code", "em", "strong", "br", "a", "img", "div"}
)

Resolver = Callable[[str], "str | None"]
# A tag's attributes as ammonia keeps them: (name, escaped value, the URL to resolve or None).
Attributes = tuple[tuple[str, str, "str | None"], ...]
# A tag as cleaned: (name, kind, its output or None when that depends on the resolver, attributes).
Tag = tuple[str, int, "str | None", Attributes]
# Kinds: a start tag; an end tag; a void element; a start tag with a check of its own (a link
# inside a link, the newline after <pre>, text in a table); an end tag after which the text must
# be whitespace (it is inside a table).
_START_KIND, _END_KIND, _VOID_KIND, _START_CHECKED, _END_CHECKED = range(5)
_CHECKED_STARTS = frozenset({"a", "pre"}) | _TABLE_PARTS
_CHECKED_ENDS = frozenset({"thead", "tbody", "tr", "th", "td"})  # they leave a table part on top


class FastCleaner:
    """nh3's output for Markdown-shaped HTML under one allow-list, or None (see the module doc)."""

    def __init__(
        self, tags: Iterable[str], attributes: Mapping[str, Iterable[str]], url_schemes: Iterable[str]
    ) -> None:
        allowed_tags = set(tags)
        # Only what both this module and the allow-list accept: a tag the policy drops (and so
        # unwraps) is one this module does not reproduce, so it declines.
        self._children = {
            parent: frozenset(c for c in children if c in allowed_tags)
            for parent, children in GRAMMAR.items()
            if parent == "#" or parent in allowed_tags
        }
        self._elements = frozenset(self._children) - {"#"}
        generic = set(attributes.get("*", ()))
        self._attributes = {name: generic | set(attributes.get(name, ())) for name in self._elements}
        self._schemes = frozenset(url_schemes)
        self._kinds = {
            name: _VOID_KIND if name in _VOID else _START_CHECKED if name in _CHECKED_STARTS else _START_KIND
            for name in self._elements
        }
        self._tags: dict[str, Tag] = {}
        # The vouched path trusts the fast Markdown path's nesting only while the allow-list
        # keeps every element that path writes (one it dropped would be unwrapped by nh3).
        self._vouchable = self._elements >= _RENDERER_ELEMENTS

    def clean(self, raw: str, resolve: Resolver) -> str | None:
        """``raw`` as nh3 would clean it with ``resolve`` for relative URLs, or None to decline.

        Declining happens before ``resolve`` is first called, so a caller that falls back to
        nh3 sees each resolver call exactly once.
        """
        if not stream_keeps(raw):
            return None
        parts = _SPLIT(raw)  # text, tag, text, …, text
        if raw.count("<") * 2 + 1 != len(parts):
            return None  # a "<" that starts no tag
        try:
            pending = self._check(parts)
            if "&" in raw or raw.count(">") * 2 + 1 != len(parts):
                for k in range(0, len(parts), 2):
                    text = parts[k]
                    if "&" in text or ">" in text:
                        parts[k] = escape_text(decode(text))
        except Decline:
            return None
        for k, entry in pending:
            parts[k] = _resolved(entry, resolve)
        out = "".join(parts)
        return out.replace("\xa0", "&nbsp;") if "\xa0" in out else out

    def clean_vouched(self, raw: str, resolve: Resolver) -> str | None:
        """:meth:`clean` for HTML the fast Markdown path wrote and vouches for, or None.

        That HTML is nested within :data:`GRAMMAR` by construction (``Rendered.vouched``), so
        the nesting walk over every tag is skipped: only tags with attributes are cleaned, by
        the same :meth:`_parse` as :meth:`clean`, and the text only where it holds a
        reference. Every other refusal of :meth:`clean` stays, before the resolver's first call.
        """
        if not self._vouchable or not stream_keeps(raw):
            return None
        parts = split_with_attributes(raw)  # text and attribute-free tags, a tag with attributes, …
        get, parse = self._tags.get, self._parse
        pending: list[tuple[int, Tag]] = []
        try:
            for k in range(1, len(parts), 2):
                tag = parts[k]
                entry = get(tag) or parse(tag)
                out = entry[2]
                if out is None:
                    pending.append((k, entry))
                elif out is not tag:
                    parts[k] = out
            if "&" in raw:
                for k in range(0, len(parts), 2):
                    if "&" in parts[k]:  # text between plain tags, which hold no "&"
                        parts[k] = REFERENCE.sub(reference_escaped, parts[k])
        except Decline:
            return None
        for k, entry in pending:
            attributes = entry[3]
            if len(attributes) == 1:  # _resolved's common case, without its call (~140k a build)
                attribute, _, url = attributes[0]
                answer = resolve(url)  # type: ignore[arg-type]  # a bound tag has its URL
                if answer is None:
                    parts[k] = f"<{entry[0]}>"
                else:
                    if '"' in answer or "&" in answer or "<" in answer or ">" in answer:
                        answer = escape_attribute(answer)  # rare: resolved URLs are quoted
                    parts[k] = f'<{entry[0]} {attribute}="{answer}">'  # one string built, not five
            else:
                parts[k] = _resolved(entry, resolve)
        out = "".join(parts)
        return out.replace("\xa0", "&nbsp;") if "\xa0" in out else out

    def _check(self, parts: list[str]) -> list[tuple[int, Tag]]:
        """Check the tags' nesting, writing cleaned tags over them; the resolver-bound ones."""
        get, parse, children = self._tags.get, self._parse, self._children
        stack: list[str] = []
        push, pop = stack.append, stack.pop
        top = "#"
        pending: list[tuple[int, Tag]] = []
        for k, tag in enumerate(parts[1::2]):
            entry = get(tag) or parse(tag)
            name, kind, out, _ = entry
            if kind == _START_KIND:
                if name not in children[top]:
                    raise Decline
                push(top)
                top = name
            elif kind == _END_KIND:
                if name != top:
                    raise Decline
                top = pop()
            elif kind == _VOID_KIND:
                if name not in children[top]:
                    raise Decline
            elif kind == _START_CHECKED:
                if name not in children[top]:
                    raise Decline
                if name == "a":
                    if "a" in stack:
                        raise Decline  # html5ever closes the outer link first
                elif name == "pre":
                    if parts[2 * k + 2][:1] == "\n":
                        raise Decline  # html5ever drops that newline
                elif parts[2 * k + 2].strip(" \t\n"):
                    raise Decline  # html5ever moves text out of a table (outside its cells)
                push(top)
                top = name
            else:
                if name != top:
                    raise Decline
                top = pop()
                if parts[2 * k + 2].strip(" \t\n"):
                    raise Decline
            if out is not tag:
                if out is None:
                    pending.append((2 * k + 1, entry))
                else:
                    parts[2 * k + 1] = out
        if stack:
            raise Decline
        return pending

    def _parse(self, tag: str) -> Tag:
        """One tag's cleaned form (cached, within bounds: URLs make most tags unique)."""
        if tag[1] == "/":
            name = tag[2:-1]
            if name not in self._elements or name in _VOID:
                raise Decline
            entry: Tag = (name, _END_CHECKED if name in _CHECKED_ENDS else _END_KIND, tag, ())
        else:
            name, space, written = tag[1:-1].partition(" ")
            if not space and name in self._elements:
                entry = (name, self._kinds[name], tag, ())
            elif space and written.count('"') == 2 and written[-1] == '"' and name in self._elements:
                # One attribute (a href, h2 id, td style …), the commonest shape: no regex.
                attribute, equals, value = written.partition('="')
                if not equals or not _NAME(attribute):
                    raise Decline
                entry = self._one_attribute(name, attribute, value[:-1], tag)
            else:
                start = _START.fullmatch(tag, 1, len(tag) - 1)
                if start is None:
                    raise Decline
                name, written, slash = start.groups()
                if name not in self._elements or (slash and name not in _VOID):
                    raise Decline
                entry = self._start_tag(name, _ATTRIBUTE.findall(written), tag)
        if len(self._tags) >= _CACHE_LIMIT:
            self._tags.clear()
        self._tags[tag] = entry
        return entry

    def _one_attribute(self, name: str, attribute: str, value: str, tag: str) -> Tag:
        """:meth:`_start_tag` for a tag with one attribute, without its generality."""
        kind = self._kinds[name]
        if attribute not in self._attributes[name]:
            return (name, kind, "<" + name + ">", ())
        if "&" in value:
            value = decode(value)
        if attribute in _URL_ATTRIBUTES:
            verdict = url_kind(value, self._schemes)
            if verdict is None:
                raise Decline
            if verdict == "drop":
                return (name, kind, "<" + name + ">", ())
            if verdict == "relative":
                return (name, kind, None, ((attribute, "", value),))
        elif attribute not in _PLAIN_ATTRIBUTES:
            raise Decline
        out = f'<{name} {attribute}="{escape_attribute(value)}">'
        return (name, kind, tag if out == tag else out, ())

    def _start_tag(self, name: str, written: Iterable[tuple[str, str]], tag: str) -> Tag:
        """A start tag from its attributes as written: those ammonia keeps, in their order."""
        allowed = self._attributes[name]
        kept: list[tuple[str, str, str | None]] = []
        seen: set[str] = set()
        bound = False
        for attribute, value in written:
            if attribute in seen:
                raise Decline  # html5ever keeps the first of duplicates; rare enough to leave
            seen.add(attribute)
            if attribute not in allowed:
                continue
            if "&" in value:
                value = decode(value)
            if attribute in _URL_ATTRIBUTES:
                kind = url_kind(value, self._schemes)
                if kind is None:
                    raise Decline
                if kind == "drop":
                    continue
                bound = bound or kind == "relative"
                kept.append((attribute, escape_attribute(value), value if kind == "relative" else None))
            elif attribute in _PLAIN_ATTRIBUTES:
                kept.append((attribute, escape_attribute(value), None))
            else:
                raise Decline
        kind = self._kinds[name]
        if bound:
            return (name, kind, None, tuple(kept))
        out = _serialize(name, [(a, v) for a, v, _ in kept])
        return (name, kind, tag if out == tag else out, ())


def split_with_attributes(raw: str) -> list[str]:
    """``_WITH_ATTRIBUTES(raw)``: text, a tag with attributes, text, …, made by the quick split.

    The quick split's tags end at the first ">"; the exact one's also stop at a "<". They differ
    only where a tag the quick split found holds a second "<", and then the exact one splits.
    """
    parts = _WITH_ATTRIBUTES_QUICK(raw)
    if len(parts) > 1 and "".join(parts[1::2]).count("<") * 2 != len(parts) - 1:
        return _WITH_ATTRIBUTES(raw)
    return parts


def _resolved(entry: Tag, resolve: Resolver) -> str:
    """A start tag whose relative URLs the resolver answers, as ammonia writes it."""
    if len(entry[3]) == 1:  # <a href="…">, <img src="…">: the URL is the only attribute
        attribute, _, url = entry[3][0]
        answer = resolve(url)  # type: ignore[arg-type]  # a resolver-bound tag has its URL
        if answer is None:
            return "<" + entry[0] + ">"
        return "<" + entry[0] + " " + attribute + '="' + escape_attribute(answer) + '">'
    attributes = [(a, v) for a, v, _ in entry[3]]
    dropped: list[int] = []
    for index, (_, _, url) in enumerate(entry[3]):
        if url is not None:
            answer = resolve(url)
            if answer is None:
                dropped.append(index)
            else:
                attributes[index] = (attributes[index][0], escape_attribute(answer))
    for index in reversed(dropped):  # Vec::swap_remove: the last attribute takes the place
        last = attributes.pop()
        if index < len(attributes):
            attributes[index] = last
    return _serialize(entry[0], attributes)


def _serialize(name: str, attributes: list[tuple[str, str]]) -> str:
    """A start tag as html5ever writes it."""
    return "<" + name + "".join(f' {a}="{v}"' for a, v in attributes) + ">"
