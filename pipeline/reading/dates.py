"""Parsing authors' ISO 8601 dates and showing dates to readers in their language (Babel, CLDR).

A date written without an offset means local time in the site's time zone (Europe/Stockholm by
default), because that is what a Swedish author means by "09:00".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pipeline.locale import babel_locale
from pipeline.locale.cli import tr

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"  # date
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"  # optional time
    r"(?:Z|[+-]\d{2}:?\d{2})?)?$"  # optional offset
)


# Years a date may have. Python's datetime ends at years 1 and 9999, and a date near either end
# overflows when it is moved to UTC or the site's zone, or when a newsletter window is added to it
# (year 1 at +14:00 crashed the build); no update or --now is from outside this range.
FIRST_YEAR, LAST_YEAR = 1000, 9000


class DateError(ValueError):
    """A value that is not an ISO 8601 date or date-time."""


def parse_datetime(value: str, tz: ZoneInfo) -> datetime:
    """Parse ``2026-03-14``, ``2026-03-14 09:30``, ``2026-03-14T09:30:00+01:00`` or ``…Z``."""
    text = value.strip()
    if not _ISO.match(text):
        raise DateError(
            tr("not an ISO 8601 date: {value} (write e.g. 2026-03-14 or 2026-03-14T09:30)", value=repr(value))
        )
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time(0, 0))
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateError(tr("impossible date {value}: {reason}", value=repr(value), reason=exc)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise DateError(
            tr(
                "date {value} is out of range: the year must be {first}–{last}",
                value=repr(value),
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )
    return parsed


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with seconds and the offset, as Atom and JSON Feed want it."""
    return moment.isoformat(timespec="seconds")


def rfc822(moment: datetime) -> str:
    """RFC 822 date as RSS 2.0 and email headers want it (always in UTC for stability)."""
    from email.utils import format_datetime  # 13 ms to import: only feeds and mail need it

    return format_datetime(moment.astimezone(UTC))


def display_date(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    """The day as readers of ``lang`` write it, in the site's time zone: CLDR's "long" pattern.

    ``d MMMM y`` for both sv_SE ("27 november 2026") and en_GB ("27 November 2026"), the way the
    site wrote dates before Babel; a new language gets its own CLDR pattern without code.
    """
    from babel import dates as babel_dates  # Babel only where a page shows a date

    local = moment.astimezone(tz)
    return babel_dates.format_date(local.date(), format="long", locale=babel_locale(lang))
