"""The CLI's messages for authors, in the author's language: the ``goal17-cli`` gettext domain.

An author meets these in a terminal (``path:line: error: …`` from ``check`` and ``build``, the
one-line summaries of ``build``, ``check``, ``new`` and ``serve``), so their language follows the
gettext convention of the terminal: the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
that is set (``LANG=sv_SE.UTF-8`` → Swedish), else English.

Why a second domain with *English* message ids, while the readers' domain ``goal17`` has Swedish
ids: a C/POSIX locale, a language without a catalogue, or a damaged ``.mo`` must print exactly
the English that tools, scripts and tests already match, and with English ids that is the text in
the code itself, with no catalogue involved. One Swedish source language for both domains would
make the English of every CLI message depend on a catalogue being found. A translator meets the
same ``.po`` format either way (``sv`` translates every message, ``en`` repeats it).

Messages with values use named fields (``tr("{path} is not a folder", path=p)``) so a translation
may reorder them; the ``path:line: error:`` prefix is not a message and is never translated.
"""

from __future__ import annotations

import gettext as gettext_module
import os
from functools import cache
from pathlib import Path

from pipeline.locale import LOCALE_DIR

CLI_DOMAIN = "goal17-cli"
# The environment variables gettext reads, in gettext's order (the first one set decides).
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def cli_languages() -> tuple[str, ...]:
    """The preferred languages of this process's terminal, as gettext reads them (``sv_SE.UTF-8``)."""
    for name in LANGUAGE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return tuple(part for part in value.split(":") if part)
    return ()


@cache
def _catalogue(languages: tuple[str, ...]) -> gettext_module.NullTranslations:
    # The standard library's classes, not Babel's (30 ms to import, paid by every command):
    # Babel's Translations.load is this same find and GNUTranslations parse, and its classes
    # inherit gettext() unchanged, so every message is the same text.
    found = gettext_module.find(CLI_DOMAIN, str(LOCALE_DIR), list(languages)) if languages else None
    if found is None:
        return gettext_module.NullTranslations()
    try:
        with open(found, "rb") as catalogue:
            return gettext_module.GNUTranslations(catalogue)
    except (OSError, gettext_module.error):  # a damaged .mo: the English source, never a crash
        return gettext_module.NullTranslations()


def cli_language() -> str:
    """The catalogue CLI messages come from now (``sv``, ``en``) or ``""`` for the English source.

    Part of the content cache's key: a cached warning is text in the language it was made in.
    """
    languages = cli_languages()
    found = gettext_module.find(CLI_DOMAIN, str(LOCALE_DIR), list(languages)) if languages else None
    return Path(found).parent.parent.name if found else ""


def tr(message: str, /, **fields: object) -> str:
    """``message`` in the terminal's language, its ``{fields}`` filled in."""
    text = _catalogue(cli_languages()).gettext(message)
    return text.format(**fields) if fields else text
