"""Text and HTML as they must look inside a feed.

Feed readers disagree about whether a title is text or HTML, and feed validators check both the
HTML they are given (parsed strictly, as HTML5) and text that looks like markup. These helpers
make every string unambiguous:

* an update's content goes into feeds as :attr:`Update.feed_html`, made once per update by
  :func:`pipeline.sanitize.stable_html`: markup that re-parses to itself, absolute URLs only.
* :func:`looks_like_markup` tells when plain text would be read as HTML by a reader or flagged
  by a validator; Atom then sends it as escaped ``type="html"``, which says exactly the same.
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


def defuse_tags(text: str) -> str:
    """Plain text for a field without a declared type: tag-like ``<`` becomes ``＜`` (U+FF1C)."""
    return _TAG_START.sub("\uff1c", text)
