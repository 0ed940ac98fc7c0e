"""Text and HTML as they must look inside a feed.

Feed readers disagree about whether a title is text or HTML, and feed validators check both the
HTML they are given (parsed strictly, as HTML5) and text that looks like markup. These helpers
make every string unambiguous:

* an update's content goes into feeds as :attr:`Update.feed_html`, made once per update by
  :func:`pipeline.reading.sanitize.stable_html`: markup that re-parses to itself, absolute URLs only.
* :func:`looks_like_markup` tells when plain text would be read as HTML by a reader or flagged
  by a validator; Atom then sends it as escaped ``type="html"``, which says exactly the same.
* :func:`prefer_cdata` tells when an HTML payload is shorter as a CDATA section than escaped, so
  the writers send ``<p>`` instead of ``&lt;p&gt;`` (``&#x3C;p&#x3E;`` in RSS): the same text to
  every XML parser, a third less bytes for typical content.
* :func:`defuse_tags` is for RSS titles and categories and for author names, which have no type
  attribute: a ``<`` that starts something tag-like becomes a full-width ``＜`` so no reader can
  run it as markup.
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<[A-Za-z/!?]|&#?\w+")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def looks_like_markup(text: str) -> bool:
    """True when ``text`` holds something a reader could take for a tag or an entity."""
    return bool(_MARKUP.search(text))


CDATA_OVERHEAD = len("<![CDATA[]]>")


def prefer_cdata(text: str, per_escape: int) -> bool:
    """True when ``text`` is shorter (and still exact) as one CDATA section than escaped.

    ``per_escape`` is how many bytes escaping adds per ``<``, ``>`` or ``&`` (3 for ``&lt;``,
    5 for RSS's ``&#x3C;``). A text holding ``]]>`` would need the section split in two; lxml
    cannot write that, so such text stays escaped (exact, only longer). A carriage return is
    kept only by a character reference (parsers turn a raw one into a line feed, also inside
    CDATA), so text with one stays escaped too.
    """
    if "]]>" in text or "\r" in text:
        return False
    escapes = text.count("<") + text.count(">") + text.count("&")
    return escapes * per_escape > CDATA_OVERHEAD


def defuse_tags(text: str) -> str:
    """Plain text for a field without a declared type: tag-like ``<`` becomes ``＜`` (U+FF1C)."""
    return _TAG_START.sub("\uff1c", text)
