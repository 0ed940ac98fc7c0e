"""Text and HTML as they must look inside a feed.

Feed readers disagree about whether a title is text or HTML, and feed validators check both the
HTML they are given (parsed strictly, as HTML5) and text that looks like markup. These helpers
make every string unambiguous:

* :func:`feed_html` re-sanitizes an update's HTML: a second pass through the same sanitizer
  (allow-list from :mod:`pipeline.sanitize`) turns a tree that a removed wrapper left mis-nested
  (``<p><div>``) into one that parses without errors, and drops any URL that is not absolute, as
  a second line of defence behind the content reader.
* :func:`looks_like_markup` tells when plain text would be read as HTML by a reader or flagged
  by a validator; Atom then sends it as escaped ``type="html"``, which says exactly the same.
* :func:`defuse_tags` is for RSS titles and categories and for author names, which have no type
  attribute: a ``<`` that starts something tag-like becomes a full-width ``＜`` so no reader can
  run it as markup.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3

from pipeline import sanitize
from pipeline.feeds.model import clean_text

_MARKUP = re.compile(r"<[A-Za-z/!?]|&#?\w+")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


@lru_cache(maxsize=4096)  # one update appears in several feeds, in three formats each
def feed_html(html: str) -> str:
    """The update's sanitized HTML, normalized until it re-parses to itself (at most 3 passes)."""
    current = clean_text(html)
    for _ in range(3):
        cleaned = nh3.clean(
            current,
            tags=sanitize.CONTENT_TAGS,
            clean_content_tags=sanitize.CLEAN_CONTENT,
            attributes=sanitize.CONTENT_ATTRIBUTES,
            url_schemes=sanitize.URL_SCHEMES,
            url_relative="deny",
            link_rel=None,
            strip_comments=True,
        )
        if cleaned == current:
            break
        current = cleaned
    return current


def looks_like_markup(text: str) -> bool:
    """True when ``text`` holds something a reader could take for a tag or an entity."""
    return bool(_MARKUP.search(text))


def defuse_tags(text: str) -> str:
    """Plain text for a field without a declared type: tag-like ``<`` becomes ``＜`` (U+FF1C)."""
    return _TAG_START.sub("\uff1c", text)
