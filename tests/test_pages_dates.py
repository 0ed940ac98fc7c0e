"""``layout.cached_display_date`` gives what ``dates.display_date`` gives (issue 16).

The pages' dates are formatted once per local day with the CLDR pattern and locale parsed once
per language (``layout._long_date``), not through ``babel.dates.format_date`` each time; the
reference is :func:`pipeline.reading.dates.display_date` itself, for real update dates and for
hypothesis-made moments, zones and languages (an unknown language included).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.config.site import LANGUAGES, load_settings
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
