"""The text of an HTML fragment without nh3, when the fragment is plain inline markup, or None.

:func:`pipeline.reading.sanitize.plain_text` asks nh3 to drop every tag and decodes what is
left. For a fragment made only of a few inline elements (what a cleaned paragraph holds:
links, emphasis, code, images, breaks), properly nested, with complete character references,
that is the fragment's text with its tags removed and its references decoded: html5ever moves no
text between such elements, and nh3's escaping is undone by the decoding. Anything else (another
tag, a comment, a misnested element, CR, NUL …) gives None and the caller asks nh3.
"""

from __future__ import annotations

from pipeline.reading.sanitize_fast import _PHRASING, _SPLIT, _START
from pipeline.reading.sanitize_fast_escapes import Decline, decode, stream_keeps

_INLINE = _PHRASING  # the cleaner's phrasing elements: what a cleaned paragraph holds
_VOID = frozenset({"img", "br"})
_CACHE_LIMIT = 1 << 12
_known: dict[str, tuple[str, bool]] = {}  # tag → (name, is an end tag), for tags seen valid


def text_of(fragment: str) -> str | None:
    """``fragment``'s text, references decoded, or None when nh3 must say what it is."""
    if not stream_keeps(fragment):
        return None
    if "<" in fragment:
        parts = _SPLIT(fragment)
        text = "".join(parts[0::2])
        # A "<" left in the text starts no tag (each tag holds one "<"): a memchr, where counting
        # the fragment's "<" read all of it.
        if "<" in text or not _nested(parts[1::2]):
            return None
    else:
        text = fragment
    try:
        return decode(text)
    except Decline:
        return None


def _nested(tags: list[str]) -> bool:
    stack: list[str] = []
    for tag in tags:
        known = _known.get(tag) or _read(tag)
        if known is None:
            return False
        name, end = known
        if end:
            if not stack or stack.pop() != name:
                return False
        elif name not in _VOID:
            stack.append(name)
    return not stack


def _read(tag: str) -> tuple[str, bool] | None:
    if tag[1] == "/":
        name, end = tag[2:-1], True
        if name in _VOID:
            return None
    else:
        start = _START.fullmatch(tag, 1, len(tag) - 1)
        if start is None or (start.group(3) and start.group(1) not in _VOID):
            return None
        name, end = start.group(1), False
    if name not in _INLINE:
        return None
    if len(_known) >= _CACHE_LIMIT:
        _known.clear()
    _known[tag] = (name, end)
    return name, end
