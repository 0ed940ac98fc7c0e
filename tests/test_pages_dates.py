"""``layout.cached_display_date`` gives what ``dates.display_date`` gives (issue 16).

The pages' dates are formatted once per local day with the CLDR pattern and locale parsed once
per language (``layout._long_date``), not through ``babel.dates.format_date`` each time; the
reference is :func:`pipeline.reading.dates.display_date` itself, for real update dates and for
hypothesis-made moments, zones and languages (an unknown language included).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from babel import dates as babel_dates
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.config.site import LANGUAGES, load_settings
from pipeline.locale import babel_locale
from pipeline.outputs.pages import layout
from pipeline.outputs.pages.layout import cached_display_date
from pipeline.reading.content import read_content
from pipeline.reading.dates import display_date
from tests.conftest import NOW, REPO

ZONES = [ZoneInfo("Europe/Stockholm"), ZoneInfo("America/St_Johns"), ZoneInfo("Pacific/Kiritimati"), UTC]
LANGS = [*LANGUAGES, "de", "fi", "ar"]


@pytest.fixture(autouse=True)
def fresh_days(monkeypatch):
    monkeypatch.setattr(layout, "_DAYS", {})


@hsettings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
    offset=st.integers(-14 * 60, 14 * 60),
    zone=st.sampled_from(ZONES),
    lang=st.sampled_from(LANGS),
)
def test_any_moment_zone_and_language(moment, offset, zone, lang):
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    assert cached_display_date(aware, lang, zone) == display_date(aware, lang, zone)
    assert cached_display_date(aware, lang, zone) == display_date(aware, lang, zone)  # remembered


def test_real_update_dates(tmp_path):
    settings = load_settings(REPO / "site.toml")
    for content in (REPO / "content", write_corpus(tmp_path / "c", 150, seed=7)):
        for update in read_content(content, settings, NOW).updates:
            for moment in (update.date, update.updated):
                for lang in LANGUAGES:
                    assert cached_display_date(moment, lang, settings.tz) == display_date(
                        moment, lang, settings.tz
                    )


def test_every_day_of_four_centuries_in_every_language():
    """Each field's text is remembered per part of the day it reads: every day, month and year
    of 1850-2250 and the edges of the calendar, against Babel formatting each day whole."""
    days = [date(1850, 1, 1) + timedelta(days=n) for n in range(0, 146_100, 7)]
    days += [date(1, 1, 1), date(9, 9, 9), date(999, 12, 31), date(2000, 2, 29), date(9999, 12, 31)]
    days += [date(2024, 1, 1) + timedelta(days=n) for n in range(400)]
    for lang in LANGS:
        fresh = layout._long_date.__wrapped__(lang)
        for day in days:
            assert fresh(day) == babel_dates.format_date(day, format="long", locale=babel_locale(lang)), (
                lang,
                day,
            )


@pytest.mark.parametrize(
    "pattern", ["EEEE d MMMM y", "d MMMM Y", "QQQ y", "'%(d)s' d 'de' MMMM 'de' y", "d.M.yy"]
)
def test_a_pattern_with_other_fields_is_what_babel_writes(monkeypatch, pattern):
    monkeypatch.setattr(babel_dates, "get_date_format", lambda *a, **k: babel_dates.parse_pattern(pattern))
    long_date = layout._long_date.__wrapped__("sv")
    for day in (date(2020, 12, 31), date(2021, 1, 1), date(2026, 11, 27), date(1999, 1, 3)):
        assert long_date(day) == babel_dates.parse_pattern(pattern).apply(day, babel_locale("sv"))
