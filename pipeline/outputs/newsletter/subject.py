"""The subject line of an edition: a template from ``site.toml``, never cut in the middle of a word.

Inbox lists show about 60–80 characters of a subject, so :func:`subject_line` keeps the whole
line within :data:`MAX_LENGTH`: only the ``{title}`` part is shortened, at a word boundary, with
"…". The caller picks the update it names: the newest *in the edition's language* (a Swedish edition
does not open with an English headline); when the template already has a colon before ``{title}`` and the title
has one of its own, the line never gets a second colon: the part before the title's colon is used
("Samstämmig politik: när …" → "Samstämmig politik"), or, when that is a single word, the colon
becomes a dash ("Enkät: hur ser …" → "Enkät – hur ser …").
"""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

FIELDS = ("week", "number", "count", "title")
MAX_LENGTH = 78
ELLIPSIS = "…"
# Punctuation that must not be left dangling before the ellipsis ("regioner –…").
_DANGLING = " \t-–—:;,."


def check_template(template: str) -> str:
    """A problem with ``template`` as a sentence for the settings error, or "" when it is usable."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"not a valid template ({exc}); write fields as {{week}}, {{title}}, …"
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            return f"unknown field {{{field}}}; use {', '.join('{' + f + '}' for f in FIELDS)}"
    if not template.strip():
        return "must not be empty"
    return ""


def shorten(text: str, room: int) -> str:
    """``text`` if it fits in ``room`` characters, else whole words followed by "…".

    The first word is kept whole even when it alone is longer than ``room``: a subject that is a
    little long reads better than one cut inside a word.
    """
    text = " ".join(text.split())
    if len(text) <= room:
        return text
    words = text.split(" ")
    kept = words[0]
    for word in words[1:]:
        if len(kept) + 1 + len(word) + len(ELLIPSIS) > room:
            break
        kept += " " + word
    return kept.rstrip(_DANGLING) + ELLIPSIS


def headline(title: str, template: str) -> str:
    """The part of ``title`` to put in the subject (the part before its colon, see the module doc)."""
    before = template.split("{title}", 1)[0]
    if ":" in before and ": " in title:
        head, rest = (part.strip() for part in title.split(": ", 1))
        if len(head.split()) >= 2:
            return head
        return f"{head} – {rest}"  # "Enkät: hur ser …" → "Enkät – hur ser …"
    return title


def subject_line(
    template: str,
    *,
    lead: str,
    number: int,
    count: int,
    created_at: datetime,
    tz: ZoneInfo,
    empty_title: str,
    max_length: int = MAX_LENGTH,
) -> str:
    """Fill ``template``; ``lead`` is the title of the update it names ("" = an empty issue)."""
    first = lead or empty_title
    week = created_at.astimezone(tz).isocalendar().week
    fields = {"week": str(week), "number": str(number), "count": str(count)}
    fixed = template.replace("{title}", "").format(**fields)
    title = shorten(headline(first, template), max(max_length - len(fixed), 12))
    return " ".join(template.format(**fields, title=title).split())


__all__ = ["FIELDS", "MAX_LENGTH", "check_template", "headline", "shorten", "subject_line"]
