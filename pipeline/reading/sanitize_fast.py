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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from html.entities import html5 as _NAMED

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
# A complete character reference, a bare "&" that starts none, or (last group) anything else.
_REFERENCE = re.compile(
    r"&(?:([A-Za-z][A-Za-z0-9]*;)|#([0-9]{1,7});|#[xX]([0-9A-Fa-f]{1,6});|(?![A-Za-z0-9#])|())"
)
_CACHE_LIMIT = 1 << 14

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


class Decline(Exception):
    """The input is outside what this module reproduces: nh3 must clean it."""


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

    def clean(self, raw: str, resolve: Resolver) -> str | None:
        """``raw`` as nh3 would clean it with ``resolve`` for relative URLs, or None to decline.

        Declining happens before ``resolve`` is first called, so a caller that falls back to
        nh3 sees each resolver call exactly once.
        """
        if "\x00" in raw or "\r" in raw or not _encodable(raw):
            return None  # html5ever drops NUL and turns CR into LF; nh3 refuses lone surrogates
        parts = _SPLIT(raw)  # text, tag, text, …, text
        if raw.count("<") * 2 + 1 != len(parts):
            return None  # a "<" that starts no tag
        try:
            pending = self._check(parts)
            if "&" in raw or raw.count(">") * 2 + 1 != len(parts):
                for k in range(0, len(parts), 2):
                    text = parts[k]
                    if "&" in text or ">" in text:
                        parts[k] = _escape_text(_decode(text))
        except Decline:
            return None
        for k, entry in pending:
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
            value = _decode(value)
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
        out = f'<{name} {attribute}="{_escape_attribute(value)}">'
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
                value = _decode(value)
            if attribute in _URL_ATTRIBUTES:
                kind = url_kind(value, self._schemes)
                if kind is None:
                    raise Decline
                if kind == "drop":
                    continue
                bound = bound or kind == "relative"
                kept.append((attribute, _escape_attribute(value), value if kind == "relative" else None))
            elif attribute in _PLAIN_ATTRIBUTES:
                kept.append((attribute, _escape_attribute(value), None))
            else:
                raise Decline
        kind = self._kinds[name]
        if bound:
            return (name, kind, None, tuple(kept))
        out = _serialize(name, [(a, v) for a, v, _ in kept])
        return (name, kind, tag if out == tag else out, ())


def _resolved(entry: Tag, resolve: Resolver) -> str:
    """A start tag whose relative URLs the resolver answers, as ammonia writes it."""
    if len(entry[3]) == 1:  # <a href="…">, <img src="…">: the URL is the only attribute
        attribute, _, url = entry[3][0]
        answer = resolve(url)  # type: ignore[arg-type]  # a resolver-bound tag has its URL
        if answer is None:
            return "<" + entry[0] + ">"
        return "<" + entry[0] + " " + attribute + '="' + _escape_attribute(answer) + '">'
    attributes = [(a, v) for a, v, _ in entry[3]]
    dropped: list[int] = []
    for index, (_, _, url) in enumerate(entry[3]):
        if url is not None:
            answer = resolve(url)
            if answer is None:
                dropped.append(index)
            else:
                attributes[index] = (attributes[index][0], _escape_attribute(answer))
    for index in reversed(dropped):  # Vec::swap_remove: the last attribute takes the place
        last = attributes.pop()
        if index < len(attributes):
            attributes[index] = last
    return _serialize(entry[0], attributes)


def _serialize(name: str, attributes: list[tuple[str, str]]) -> str:
    """A start tag as html5ever writes it."""
    return "<" + name + "".join(f' {a}="{v}"' for a, v in attributes) + ">"


def _encodable(text: str) -> bool:
    """No lone surrogates (which nh3 cannot take): a copy for ASCII and one-byte strings."""
    if text.isascii():
        return True
    try:
        text.encode("latin-1")
        return True
    except UnicodeEncodeError:
        try:
            text.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False


def _reference(match: re.Match[str]) -> str:
    named, decimal, hexadecimal, other = match.groups()
    if other is not None:
        raise Decline  # "&x" without ";", "&#;" …: html5ever's legacy rules, not reproduced
    if named is not None:
        value = _NAMED.get(named)
        if value is None:
            raise Decline
        return value
    if decimal is None and hexadecimal is None:
        return "&"  # a bare ampersand: text as it is
    code = int(decimal, 10) if decimal is not None else int(hexadecimal, 16)
    # Ordinary characters only: html5ever maps NUL, C1 controls (as windows-1252), surrogates and
    # out-of-range numbers to other characters.
    if code < 0x20 and code not in (0x09, 0x0A) or 0x7F <= code <= 0x9F:
        raise Decline
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF or 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        raise Decline
    return chr(code)


def _decode(text: str) -> str:
    return _REFERENCE.sub(_reference, text) if "&" in text else text


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    if "&" in value or '"' in value or "<" in value or ">" in value:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return value
