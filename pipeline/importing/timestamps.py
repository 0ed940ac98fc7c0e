"""Dates as feeds and exports write them (RFC 822, ISO 8601, WordPress's SQL form) → aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

# Zone names RFC 822 does not know but European feeds write; the standard library reads only
# the North American ones (EST, CDT …) and would take these as UTC, an hour or two off.
ZONE_NAMES = {
    "CET": "+0100",
    "CEST": "+0200",
    "MET": "+0100",
    "MEST": "+0200",
    "EET": "+0200",
    "EEST": "+0300",
    "WET": "+0000",
    "WEST": "+0100",
    "BST": "+0100",
}
_ZONE_NAME = re.compile(r"\s([A-Za-z]{3,4})\s*$")
_NEGATIVE_YEAR = re.compile(r"\s-\d{1,4}\s+\d{1,2}:")


def rfc822(value: str | None) -> datetime | None:
    """An RSS ``pubDate``; ``-0000`` (unknown zone) and a missing zone count as UTC."""
    if not value:
        return None
    if _NEGATIVE_YEAR.search(value):
        return None  # WordPress's "Mon, 30 Nov -0001 00:00:00 +0000" for "never published"
    text = _ZONE_NAME.sub(lambda m: " " + ZONE_NAMES.get(m.group(1).upper(), m.group(1)), value.strip())
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return iso(value)  # feeds in the wild put ISO dates in pubDate too
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso(value: str | None, tz: ZoneInfo | None = None) -> datetime | None:
    """An Atom or Dublin Core date; without an offset it is in ``tz`` (UTC if none)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz or UTC)


def wordpress(value: str | None, tz: ZoneInfo) -> datetime | None:
    """``2024-03-14 08:30:00`` in ``tz``; WordPress writes ``0000-00-00 00:00:00`` for "not set"."""
    if not value or value.startswith("0000-00-00"):
        return None
    return iso(value, tz)
