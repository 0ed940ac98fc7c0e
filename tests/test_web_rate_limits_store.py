"""The web service's limits as a store, once per backend: the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config.site import default_settings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def limits(state_backend, tmp_path):
    web = default_settings(state_dir=str(tmp_path / "state")).web
    web = type(web)(**{**web.__dict__, "per_client_per_hour": 3, "per_address_per_day": 2})
    store = state_backend.rate_limits(web)
    yield store
    store.close()


def test_a_client_gets_its_hourly_limit_then_a_wait(limits) -> None:
    assert [limits.client_hit("192.0.2.1") for _ in range(3)] == [None, None, None]
    wait = limits.client_hit("192.0.2.1")
    assert wait is not None and 3500 < wait <= 3601
    assert limits.client_hit("192.0.2.2") is None  # another client counts on its own


def test_an_address_gets_its_daily_mails_then_none_until_a_day_later(limits) -> None:
    assert [limits.take_mail("Anna@example.se", NOW) for _ in range(3)] == [True, True, False]
    assert limits.take_mail("anna@example.se", NOW + timedelta(hours=23)) is False  # one address
    assert limits.take_mail("bo@example.se", NOW) is True
    assert limits.take_mail("anna@example.se", NOW + timedelta(days=1, seconds=1)) is True
