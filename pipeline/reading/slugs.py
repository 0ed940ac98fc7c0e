"""URL-safe slugs from Swedish (and other) titles and file names."""

from __future__ import annotations

import re
import unicodedata

_TRANSLITERATE = str.maketrans(
    {"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "ß": "ss", "þ": "th", "ð": "d"}
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, separator: str = "-") -> str:
    """Lower-case ASCII with hyphens: 'Kommunala partnerskap i Östafrika' → 'kommunala-partnerskap-i-ostafrika'."""
    lowered = text.lower().translate(_TRANSLITERATE)
    if not lowered.isascii():  # ASCII text is its own NFKD form and its own ASCII encoding
        lowered = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub(separator, lowered).strip(separator)
