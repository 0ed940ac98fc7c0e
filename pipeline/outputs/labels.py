"""Numbers and lists shown to readers, written the way their language writes them (Babel, CLDR).

The words themselves are gettext messages (:mod:`pipeline.locale`); this module holds the two
things around them that differ between languages without being words: how a count is written
("12 345" in Swedish, "12,345" in English) and how a list is joined ("17.9, 17.16 och 17.17",
"17.9, 17.16 and 17.17").
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal

from pipeline.locale import babel_locale


def format_number(number: int, lang: str) -> str:
    """A count for a reader of ``lang`` ("Sida 2 av 5", "12 nyheter")."""
    return format_decimal(number, locale=babel_locale(lang))


def format_list(items: Sequence[str], lang: str) -> str:
    """Items joined as a sentence in ``lang``: "a, b och c" / "a, b and c" (CLDR's standard list)."""
    if not items:
        return ""
    return babel_format_list(list(items), locale=babel_locale(lang))
