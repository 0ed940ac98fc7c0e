"""The database down while ``web`` runs: 503 with Retry-After and one log line, not a 500 and a
traceback in the service log (checked by hand against a stopped PostgreSQL; here the store raises
what the PostgreSQL stores raise then)."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.stores.postgres import DatabaseUnavailable
from tests.web_helpers import running_service


def test_a_database_outage_is_a_503_with_one_log_line(tmp_path: Path, monkeypatch, caplog) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable("database postgresql://goal17:***@db/goal17: couldn't get a connection")

    caplog.set_level(logging.ERROR, logger="pipeline.web")
    with running_service(tmp_path, mail=False) as service:
        app = service.extra["requests"].app
        monkeypatch.setattr(app.state.service.limits, "client_hit", down)
        page = service.client.post("/subscribe", data={"email": "a@example.se", "consent": "yes"})
        assert page.status_code == 503 and page.headers["retry-after"] == "30"
        assert "Traceback" not in page.text
        as_json = service.client.post(
            "/subscribe", json={"email": "a@example.se"}, headers={"Origin": "https://x.example"}
        )
        assert as_json.status_code == 503 and as_json.json() == {"error": "database unavailable"}
        assert as_json.headers["access-control-allow-origin"] == "*"
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline.web"]
    assert (
        lines
        == ["POST /subscribe: database postgresql://goal17:***@db/goal17: couldn't get a connection"] * 2
    )
    assert not [r for r in caplog.records if r.exc_info]
