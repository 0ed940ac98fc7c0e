"""Inline Markdown (emphasis, code, links, images, breaks) rendered the way Python-Markdown does.

The library runs its inline patterns one after another over the whole text of a paragraph, list
item, heading or table cell, and hides each match behind a placeholder before the next pattern
runs: code spans first, then backslash escapes, links, images, line breaks, entities, and last
emphasis (the DelimiterProcessor's ``*`` and ``_`` runs). This module runs the same phases in
the same order with the same placeholders, but only for the forms it knows exactly; for
anything else (raw HTML, reference links, ``***``/``___``, unpaired, nested or interleaved
emphasis, brackets that are not a plain inline link) it raises :class:`Decline`, and the whole
document goes through Python-Markdown instead. ``tests/test_markdown_fast_*.py`` compare the
two on real and generated documents.
"""

from __future__ import annotations

import re

from pipeline.reading.markdown_fast_library import RE_AMP


class Decline(Exception):
    """The fast path is not sure it matches Python-Markdown here: use the library."""


STX, ETX = "\x02", "\x03"
# Python-Markdown's md.ESCAPED_CHARS with our extensions (tables adds "|"), minus ">" (its toc
# text is made after unescaping, a difference not worth modelling): other escapes decline.
ESCAPABLE = frozenset("\\`*_{}[]()#+-.!|")
# What the phases below do not model; :func:`markdown_fast.render_fast` declines a document
# holding any of it, once, before any text reaches them (single characters first: ``in`` on
# one character is a memchr, a regex character class ~10 ns a character).
UNSUPPORTED_CHARS = "<{}" + "".join(chr(code) for code in (*range(0x0A), *range(0x0B, 0x20), 0x7F))
UNSUPPORTED_PAIRS = (("^", "[^"), ("`", "``"), ("`", "\\`"), ("~", "~~~"))
# The one link form handled: [text](url) or [text](url "title"), text without brackets,
# url without spaces, quotes, parentheses or escapes; images the same with a "!" in front.
_LINK = re.compile(r'\[([^\[\]]*)\]\(([^\s()<>"\'`\\\x02\x03]+)(?: "([^"\\\x02\x03()]*)")?\)')
_STASHED = re.compile("\x02h(\\d+)\x03")
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)  # the escape pattern
_ESCAPED = re.compile("\x02(\\d+)\x03")
# A hard break whose line goes on with plain text (then the library's <br> tail is "\n" + it).
_BREAK = re.compile(r"  \n(?=[^\s*_\[!`\\&\x02])")


def _attr(value: str) -> str:
    """Python-Markdown's attribute escaping (``_escape_attrib_html``)."""
    if "&" in value:
        value = RE_AMP.sub("&amp;", value)
    return value.replace(">", "&gt;").replace('"', "&quot;")


def _code_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace(">", "&gt;")


class InlineRenderer:
    """Renders the text of one element; stashed fragments live in ``self.stash``."""

    __slots__ = ("escaped", "stash")

    def __init__(self) -> None:
        self.stash: list[str] = []
        self.escaped = False  # whether _escapes left STX n ETX placeholders to turn back

    def _put(self, html: str) -> str:
        self.stash.append(html)
        return f"\x02h{len(self.stash) - 1}\x03"

    def render(self, text: str) -> str:
        """``text`` (one element's inline Markdown) as HTML, or :class:`Decline`."""
        if "`" in text:
            text = self._code_spans(text)
        if "\\" in text:
            text = self._escapes(text)
        if "[" in text or "]" in text:
            return self._links(text)
        return self._finish(self._rest(text))

    def _code_spans(self, text: str) -> str:
        parts = text.split("`")
        out = [parts[0]]
        index = 1
        while index < len(parts):
            if index + 1 < len(parts):  # a closing backtick follows: a code span
                out.append(self._put("<code>" + _code_escape(parts[index].strip()) + "</code>"))
                out.append(parts[index + 1])
                index += 2
            else:  # the library skips an unpaired backtick and leaves it as text
                out.append("`" + parts[index])
                index += 1
        return "".join(out)

    def _escapes(self, text: str) -> str:
        def escape(match: re.Match[str]) -> str:
            char = match.group(1)
            if char not in ESCAPABLE:
                raise Decline
            return f"{STX}{ord(char)}{ETX}"

        self.escaped = True
        return _BACKSLASH.sub(escape, text)

    def _links(self, text: str) -> str:
        """Links and images, then the phases after them: the element's finished HTML.

        The library stashes each link and runs the later phases over the text around the
        placeholders. When that text holds nothing a later phase acts on (no emphasis run, no
        hard break, no placeholder of code or an escape), those phases would only escape it:
        each piece between links is escaped and joined with the links' HTML directly.
        """
        parts = _LINK.split(text)  # before, label, url, title, before, … the text after the last
        pieces = parts[::4]
        plain = "".join(pieces)  # may join a "  \n" no piece holds: then the general way
        if "[" in plain or "]" in plain:
            raise Decline
        made: list[str] = []  # each link's HTML
        for index in range(1, len(parts), 4):
            label, url, title = parts[index : index + 3]
            if "&" in url:  # _attr: the url pattern admits no ">" and no '"'
                url = RE_AMP.sub("&amp;", url)
            title_attr = f' title="{_attr(title)}"' if title is not None else ""
            before = pieces[index >> 2]
            if before[-1:] == "!":  # an image (the link pattern skips a "[" after "!")
                pieces[index >> 2] = before[:-1]
                if STX in label:
                    raise Decline
                made.append(f'<img alt="{_attr(label)}" src="{url}"{title_attr}>')
            else:
                if "*" in label or "_" in label or STX in label or ("\n" in label and "  \n" in label):
                    inner = self._finish(self._rest(label))
                else:  # the phases after links would only escape it
                    inner = _escape_plain(label)
                made.append(f'<a href="{url}"{title_attr}>{inner}</a>')
        out: list[str] = pieces + made  # the length wanted; pieces and links interleaved below
        if "*" in plain or "_" in plain or STX in plain or ("\n" in plain and "  \n" in plain):
            out[::2] = pieces
            out[1::2] = map(self._put, made)
            return self._finish(self._rest("".join(out)))
        out[::2] = pieces if "&" not in plain and ">" not in plain else map(_escape_plain, pieces)
        out[1::2] = made
        return "".join(out)

    def _rest(self, text: str) -> str:
        """Line breaks, lone asterisks and emphasis: the phases after links."""
        if "\n" in text and "  \n" in text:
            if len(_BREAK.findall(text)) != text.count("  \n"):
                raise Decline  # a break followed by markup or space: the library's tail rules
            text = _BREAK.sub(lambda _: self._put("<br>") + "\n", text)
        if "*" in text or "_" in text:
            text = self._emphasis(text)
        return text

    def _emphasis(self, text: str) -> str:
        """``*em*``, ``**strong**``, ``_em_``, ``__strong__``, paired as the DelimiterProcessor pairs them.

        Each run of ``*`` is classified with the library's "dumb" flanking rules: preceded by
        text it can close, followed by text it can open (both: "ambiguous", as in ``**b**.``
        or ``a*b``), with space or the text's edge on both sides it is literal. Runs of ``_``
        follow its "smart" rules (:func:`_underscore_runs`): inside a word they are literal.
        A run that can close closes the open run of its size; one that cannot, opens. Runs of
        three or more, nesting, sizes that differ and an opener left open decline; a closer
        with nothing open is literal, as in the library. The two tokens keep separate stacks:
        while one is open, a run of the other that could open declines (the library would
        interleave them), one that can only close is literal.
        """
        runs = _asterisk_runs(text) if "*" in text else []
        if "_" in text:
            runs = sorted(runs + _underscore_runs(text)) if runs else _underscore_runs(text)
        out: list[str] = []
        position = 0
        opening: tuple[int, int, str] | None = None
        for start, end, closes, opens in runs:
            size = end - start
            if size > 2:
                raise Decline
            token = text[start]
            if opening is not None and token == opening[2] and closes:
                if opening[1] - opening[0] != size:
                    raise Decline
                tag = "strong" if size == 2 else "em"
                out.append(text[position : opening[0]])
                inner = self._finish(text[opening[1] : start])
                out.append(self._put(f"<{tag}>{inner}</{tag}>"))
                position = end
                opening = None
            elif opens:
                if opening is not None:
                    raise Decline  # nested or unclosed
                opening = (start, end, token)
        if opening is not None:
            raise Decline
        out.append(text[position:])
        return "".join(out)

    def _finish(self, text: str) -> str:
        """Placeholders swapped for their HTML; the text between them escaped like the serializer."""
        if self.escaped:
            text = _ESCAPED.sub(lambda m: chr(int(m.group(1))), text)
        if STX not in text:
            return _escape_plain(text)
        # Escaping the whole text equals escaping each piece between placeholders: they hold
        # no "&", ">" or digits-only escape, and no entity or escape can span one.
        stash = self.stash
        return _STASHED.sub(lambda match: stash[int(match.group(1))], _escape_plain(text))


def inline(text: str) -> str:
    """One element's inline Markdown as HTML (or :class:`Decline`).

    Text holding none of the characters an inline phase acts on (code, escapes, links,
    emphasis, breaks, placeholders) only gets the serializer's escaping: the phases would
    each find nothing and hand it back unchanged. A test for a longer needle ("  \n", "]:")
    is a string search, ~17 times a one-character test (a memchr): here and in the block
    code it is asked only after a character it needs was found.
    """
    if (
        "`" in text
        or "\\" in text
        or "[" in text
        or "]" in text
        or "*" in text
        or "_" in text
        or ("\n" in text and "  \n" in text)
        or STX in text
    ):
        return InlineRenderer().render(text)
    return escape_text(text)


def escape_text(text: str) -> str:
    """A text node as Python-Markdown serializes it, after unescaping backslash escapes."""
    if STX in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1))), text)
    return _escape_plain(text)


def _escape_plain(text: str) -> str:
    """:func:`escape_text` for text that holds no escape placeholder."""
    if "&" in text:
        text = RE_AMP.sub("&amp;", text)
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _asterisk_runs(text: str) -> list[tuple[int, int, bool, bool]]:
    """(start, end, can close, can open) of each ``*`` run: space or the edge on a side forbids."""
    return _runs(text, "*", False)


def _underscore_runs(text: str) -> list[tuple[int, int, bool, bool]]:
    """Each ``_`` run as the smart boundary regex sees it: a word character beside it forbids."""
    return _runs(text, "_", True)


def _runs(text: str, char: str, smart: bool) -> list[tuple[int, int, bool, bool]]:
    """The runs of ``char`` found with ``str.find`` (a ``re`` search tries every position).

    ``smart``: a word character (re's ``\\w``: ``str.isalnum`` or "_") beside the run also
    forbids that side, as the library's smart underscore patterns say.
    """
    runs = []
    size = len(text)
    start = text.find(char)
    while start != -1:
        end = start + 1
        while end < size and text[end] == char:
            end += 1
        after = text[end] if end < size else ""
        before = text[start - 1] if start else ""
        opens = bool(after) and not after.isspace()
        closes = bool(before) and not before.isspace()
        if smart:
            opens = opens and not (before.isalnum() or before == "_")
            closes = closes and not (after.isalnum() or after == "_")
        runs.append((start, end, closes, opens))
        start = text.find(char, end)
    return runs
