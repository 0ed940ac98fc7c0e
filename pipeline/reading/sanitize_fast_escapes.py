"""Character references and html5ever's escaping, as the fast cleaner reproduces them.

Split from :mod:`pipeline.reading.sanitize_fast` (which uses them for text and attribute values):
what html5ever decodes (complete references of the HTML5 table and ordinary code points) and how
it escapes text and attribute values when it serializes; anything else raises :class:`Decline`.
Also which input its input stream hands on unchanged (:func:`stream_keeps`), the fast paths' first
check.
"""

from __future__ import annotations

import re
from html.entities import html5 as _NAMED


class Decline(Exception):
    """The input is outside what the fast cleaner reproduces: nh3 must clean it."""


# A complete character reference, a bare "&" that starts none, or (last group) anything else.
REFERENCE = re.compile(
    r"&(?:([A-Za-z][A-Za-z0-9]*;)|#([0-9]{1,7});|#[xX]([0-9A-Fa-f]{1,6});|(?![A-Za-z0-9#])|())"
)


def stream_keeps(text: str) -> bool:
    """Would html5ever's input stream hand ``text`` to its tokenizer unchanged, and nh3 take it?

    The stream drops NUL, turns CR into LF and drops a byte order mark that opens the input;
    nh3 refuses lone surrogates. The fast paths take only text for which all of that is moot.
    """
    return "\x00" not in text and "\r" not in text and text[:1] != "\ufeff" and _encodable(text)


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


def reference_escaped(match: re.Match[str]) -> str:
    """One reference of a text decoded and escaped again: ``escape_text(decode(…))`` piecewise."""
    return escape_text(_reference(match))


def decode(text: str) -> str:
    return REFERENCE.sub(_reference, text) if "&" in text else text


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    if "&" in value or '"' in value or "<" in value or ">" in value:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return value
