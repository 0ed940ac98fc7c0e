"""The interface words in every language: gettext catalogues read through Babel.

Every sentence a reader sees (pages, feeds' labels, newsletters, the subscription service) is
written once, in Swedish, as a gettext message id in the code or a template, and translated in
``pipeline/locale/<lang>/LC_MESSAGES/goal17.po``. Swedish is the source language because it is the
site's language and the copy is written in Swedish first (du, short sentences, Swedish quotes);
``sv/…/goal17.po`` exists and is complete (msgstr empty = the msgid), so a Swedish copy editor can
reword a sentence there without touching code. ``en`` translates every message. A translator adds a
language without reading Python: see ``docs/translating.md``.

The ``.mo`` files are committed next to the ``.po`` files (a test checks they are compiled from
the current ``.po``), so ``pip install .`` needs no build step and the wheel carries them.

Dates and numbers shown to readers come from Babel's CLDR data in :data:`BABEL_LOCALES`.

The command line's messages to authors are a second domain, ``goal17-cli``, with English message
ids and the terminal's language: see :mod:`pipeline.locale.cli`.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import NullTranslations

# Babel (30 ms to import) is imported where a locale or a catalogue is first needed: a build
# skipped because nothing changed reads neither.

DOMAIN = "goal17"
LOCALE_DIR = Path(__file__).parent
SOURCE_LANGUAGE = "sv"
# The CLDR locale whose patterns a language's readers see ("1 december 2026", "1 December 2026").
# British English: the site's English readers are in Europe (day before month, no comma).
BABEL_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


@cache  # Locale.parse of a name costs 0.1 ms; pages format ~8,000 dates and numbers at 10k
def babel_locale(lang: str) -> Locale:
    """The CLDR locale of a reader's language; an unknown language gets its own plain CLDR data."""
    from babel import Locale

    return Locale.parse(BABEL_LOCALES.get(lang, lang))


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang``; a language without one shows the Swedish source text."""
    from babel.support import NullTranslations, Translations

    try:
        return Translations.load(str(LOCALE_DIR), [lang], DOMAIN)
    except (OSError, gettext_module.error):  # a damaged .mo: the source text, never a crash
        return NullTranslations()


def languages() -> list[str]:
    """The languages that have a compiled catalogue, for tests and the translators' docs."""
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))


def N_(message: str) -> str:  # noqa: N802 - the gettext convention that pybabel extract knows
    """Mark a message id for the catalogues where it is written; it is translated where it is shown."""
    return message
