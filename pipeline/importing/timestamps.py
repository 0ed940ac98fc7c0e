"""Dates as feeds and exports write them (RFC 822, ISO 8601, WordPress's SQL form) → aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo


def rfc822(value: str | None) -> datetime | None:
    """An RSS ``pubDate``; ``-0000`` (unknown zone) and a missing zone count as UTC."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
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
