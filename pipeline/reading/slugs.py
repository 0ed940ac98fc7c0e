"""URL-safe slugs from Swedish (and other) titles and file names."""

from __future__ import annotations

import re
import unicodedata

# What the Swedish (and Nordic) letters become; every key is one non-ASCII character and every
# value ASCII, so replacing them one after another is the same as a translate table.
_TRANSLITERATE = (
    ("å", "a"),
    ("ä", "a"),
    ("ö", "o"),
    ("æ", "ae"),
    ("ø", "o"),
    ("ß", "ss"),
    ("þ", "th"),
    ("ð", "d"),
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, separator: str = "-") -> str:
    """Lower-case ASCII with hyphens: 'Kommunala partnerskap i Östafrika' → 'kommunala-partnerskap-i-ostafrika'.

    Every heading's id is one (the toc extension's slugify), so the usual case is made cheap:
    ``str.translate`` with a dict costs hundreds of instructions a character and a regex
    substitution thousands per call, while most titles are a few words of letters and digits.
    """
    lowered = text.lower()
    if not lowered.isascii():
        for char, plain in _TRANSLITERATE:
            if char in lowered:
                lowered = lowered.replace(char, plain)
        if not lowered.isascii():  # ASCII text is its own NFKD form and its own ASCII encoding
            # NFKD may make capitals ("🄰" → "A"), which the pattern below turns into separators
            lowered = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
            return _NON_SLUG.sub(separator, lowered).strip(separator)
    # ASCII from str.lower and the table above holds no capital: letters and digits are [a-z0-9]
    words = lowered.split()
    if separator == "-" and "".join(words).isalnum():
        return "-".join(words)  # words of [a-z0-9] between runs of white space
    return _NON_SLUG.sub(separator, lowered).strip(separator)
