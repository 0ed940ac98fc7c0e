"""``db copy --to``: a realistic SQLite installation moved to PostgreSQL, verified, all or nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.state import ENVIRONMENT_VARIABLE, StateConfig
from pipeline.reading.content import Update
from pipeline.stores import migrations
from pipeline.stores.backend import Backend, backend_for
from pipeline.stores.migrations import Component
from pipeline.stores.transfer import canonical_export, sqlite_columns
from tests.conftest import NOW

HOUR = timedelta(hours=1)


def update(number: int, date) -> Update:
    return Update(
        id=f"tag:test.example,2026:u{number}",
        slug=f"u{number}",
        title=f"Update {number} — åäö",
        date=date,
        updated=date,
        lang="sv",
        targets=("17.1", "17.9"),
        tags=(),
        author=None,
        summary="Sammanfattning.",
        html="<p>Text.</p>",
        toc_html="",
        feed_html="<p>Text.</p>",
        image=None,
        source=f"u{number}.md",
        url=f"https://mal17.example.se/updates/u{number}/",
    )


def realistic_state(backend: Backend) -> None:
    """Subscribers in every status with their consent history, an erased address, an import with
    documented consent, two issues, a send log with every status, the scheduler's run history and
    pending WebSub pings."""
    with backend.subscribers() as store:
        store.add("anna@example.se", now=NOW, lang="sv", targets="17.9", source="cli")
        bo, _ = store.add(
            "Bo@Example.se", now=NOW, status="pending", source="form", page="https://partner.example/"
        )
        store.confirm(bo.uid, now=NOW + HOUR, page="https://mal17.example.se/confirm")
        store.set_preferences(bo.uid, now=NOW + 2 * HOUR, lang="en", targets="17.17 17.2")
        cecilia, _ = store.add("cecilia@example.se", now=NOW)
        store.unsubscribe(cecilia.uid, now=NOW + 3 * HOUR, source="api")
        store.add("cecilia@example.se", now=NOW + 4 * HOUR, resubscribe=True, status="pending", source="form")
        dan, _ = store.add("dan@example.se", now=NOW)
        store.erase(dan.uid, now=NOW + HOUR)
        store.import_csv(
            "email,consent_at,consent_source\nerik@example.se,2026-03-14T08:00:00Z,form\n", now=NOW
        )
    with backend.issues() as issues:
        assert issues.create([update(1, NOW - 48 * HOUR), update(2, NOW - HOUR)], NOW).number == 1
        later = NOW + 7 * 24 * HOUR
        assert issues.create([update(3, NOW + 24 * HOUR)], later).number == 2
    with backend.subscribers() as store:
        a, b, c, e = [s.id for s in store.list()]  # anna, bo, cecilia, erik
    with backend.connection() as conn:  # as send runs leave it (one crashed while a copy was claimed)
        conn.executemany(
            "INSERT INTO newsletter_sends (issue, subscriber_id, status, attempts, ambiguous, message_id, "
            "transport, claimed_at, sent_at, next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, a, "sent", 1, 0, "<1.a@x>", "smtp", "2026-11-27T12:00:01Z", "2026-11-27T12:00:02Z", None, None),
                (1, b, "temporary", 2, 1, "<1.b@x>", "smtp", "2026-11-27T12:00:01Z", None, "2026-11-27T12:10:00Z",
                 "451 4.7.1 try again later"),
                (1, c, "permanent", 1, 0, "<1.c@x>", "smtp", "2026-11-27T12:00:01Z", None, None,
                 "550 5.1.1 no such user — åäö"),
                (1, e, "skipped", 0, 0, "<1.e@x>", "smtp", "2026-11-27T12:00:01Z", None, None, "no longer active"),
                (2, a, "claimed", 1, 0, "<2.a@x>", "smtp", "2026-12-04T12:00:01Z", None, None, None),
                (2, b, "queued", 0, 0, "<2.b@x>", "smtp", "2026-12-04T12:00:01Z", None, None, None),
            ],
        )  # fmt: skip
    history = backend.run_history()
    run = history.start("newsletter", "newsletter", "schedule", NOW)
    history.finish(
        run, "success", NOW, NOW + HOUR / 60, summary="built issue 1", last_fire=("cron[mon 07:00]", NOW)
    )
    failed = history.start("build", "build", "manual")
    history.finish(failed, "failed", NOW, NOW + HOUR, error="Traceback …\nValueError: x")
    history.record_skip("ping", "ping", "missed", NOW - HOUR, "the scheduler was down")
    with backend.websub_pending() as pending:
        pending.add(
            ["https://mal17.example.se/feeds/atom.xml", "https://mal17.example.se/feeds/targets/17.9/rss.xml"]
        )


@pytest.fixture
def installation(tmp_path: Path, monkeypatch) -> tuple[Path, Backend]:
    """A SQLite installation with realistic state, and its site.toml."""
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    backend = backend_for(StateConfig("sqlite", tmp_path / "state", "", "default"))
    migrations.migrate(backend)
    realistic_state(backend)
    return config, backend


def db(config: Path, *argv: str) -> int:
    return main(["db", argv[0], "--config", str(config), *argv[1:]])


def pg(url: str, tmp_path: Path) -> Backend:
    return backend_for(StateConfig("postgresql", tmp_path / "state", url, ENVIRONMENT_VARIABLE))


def test_round_trip_keeps_every_row_and_the_target_works_afterwards(
    installation, postgres_url, tmp_path, capsys, monkeypatch
):
    config, sqlite = installation
    assert db(config, "copy", "--to", postgres_url) == 0
    out = capsys.readouterr().out
    assert "copied       4 row(s)  subscribers" in out and "copied       2 row(s)  newsletter_issues" in out
    assert "verified:" in out and "identical" in out
    target = pg(postgres_url, tmp_path)
    migrations.check(target)  # the target's schema is this goal17's
    columns = sqlite_columns(sqlite)  # PostgreSQL's send log also has the lease of a claim
    source_export, target_export = canonical_export(sqlite, columns), canonical_export(target, columns)
    common = sorted(set(source_export) & set(target_export))
    assert {"subscribers", "subscriber_consent", "subscriber_suppressions", "newsletter_issues"} <= set(
        common
    )
    assert {"newsletter_issue_updates", "websub_pending", "newsletter_sends", "schedule_runs"} <= set(common)
    assert "schedule_jobs" in common
    assert {t: source_export[t] for t in common} == {t: target_export[t] for t in common}
    statuses = {
        json.loads(row)[sorted(columns["newsletter_sends"]).index("status")]
        for row in target_export["newsletter_sends"]
    }
    assert statuses == {"queued", "claimed", "sent", "temporary", "permanent", "skipped"}
    assert len(target_export["schedule_runs"]) == 3 and len(target_export["schedule_jobs"]) == 1
    assert (
        len(target_export["subscriber_consent"]) == 8 and len(target_export["subscriber_suppressions"]) == 1
    )

    # The copied installation is used through the configured URL: same answers, fresh ids.
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, postgres_url)
    with sqlite.subscribers() as before, target.subscribers() as after:
        assert [s for s in after.list()] == [s for s in before.list()]
        uid = next(before.list()).uid
        assert after.export_record(uid) == before.export_record(uid)
        newcomer, created = after.add("fredrik@example.se", now=NOW)
        assert created and newcomer.id > max(s.id for s in before.list())
        assert after.is_suppressed("dan@example.se")
    with target.issues() as issues:
        assert [i.number for i in issues.all()] == [1, 2]
        assert (
            issues.create([update(3, NOW), update(4, NOW + 8 * 24 * HOUR)], NOW + 9 * 24 * HOUR).number == 3
        )
    assert target.run_history().start("build", "build", "manual") > 3  # the sequence was reset
    assert main(["subscribers", "list", "--config", str(config)]) == 0
    assert "fredrik@example.se" in capsys.readouterr().out


def test_a_target_with_rows_is_refused_and_force_replaces_them_all_or_nothing(
    installation, postgres_url, tmp_path, capsys
):
    config, _sqlite = installation
    target = pg(postgres_url, tmp_path)
    migrations.migrate(target)
    with target.subscribers() as store:
        store.add("already@example.se", now=NOW)
    assert db(config, "copy", "--to", postgres_url) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the target database is not empty (subscribers: 1 row(s); subscriber_consent: 1 row(s))"
    )
    assert "--force" in err and "Traceback" not in err
    assert db(config, "copy", "--to", postgres_url, "--force") == 0
    with target.subscribers() as store:
        assert store.find("already@example.se") is None and store.find("anna@example.se") is not None


def test_a_difference_found_by_the_verification_rolls_everything_back(
    installation, postgres_url, tmp_path, capsys
):
    config, _sqlite = installation
    target = pg(postgres_url, tmp_path)
    migrations.migrate(target)
    with target.connection() as conn:  # a target that silently changes what it is given
        conn.execute(
            "CREATE FUNCTION mangle() RETURNS trigger AS $$ BEGIN NEW.detail := 'changed'; RETURN NEW; END $$ "
            "LANGUAGE plpgsql; CREATE TRIGGER mangle BEFORE INSERT ON subscriber_consent "
            "FOR EACH ROW EXECUTE FUNCTION mangle()"
        )
    assert db(config, "copy", "--to", postgres_url) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: verification failed for subscriber_consent: the rows differ between SQLite and PostgreSQL; "
        "nothing was copied"
    )
    assert all(rows == [] for rows in canonical_export(target).values())


def test_wrong_arguments_are_one_clear_line(
    installation, postgres_url, postgres_server, tmp_path, capsys, monkeypatch
):
    config, _sqlite = installation
    cases = {
        "mysql://goal17@db.example.se/goal17": "error: --to must be a postgresql:// URL, got 'mysql://goal17@db.example.se/goal17'",
        "postgresql:///goal17": "error: --to names no host: 'postgresql:///goal17'",
        f"postgresql://goal17:hemligt@127.0.0.1:{_closed_port()}/goal17": "error: cannot connect to postgresql://goal17:***@127.0.0.1:",
    }
    for url, message in cases.items():
        assert db(config, "copy", "--to", url) == 1
        err = capsys.readouterr().err
        assert err.startswith(message) and len(err.strip().splitlines()) == 1, err
        assert "hemligt" not in err
    target = pg(postgres_url, tmp_path)
    migrations.migrate(target)
    with target.connection() as conn:
        conn.execute("UPDATE schema_versions SET version = 7 WHERE component = 'subscribers'")
    assert db(config, "copy", "--to", postgres_url) == 1
    assert capsys.readouterr().err.startswith(
        "error: this database was upgraded by a newer goal17 (subscribers: version 7"
    )
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, postgres_server.new_database())
    assert db(config, "copy", "--to", postgres_url) == 1
    assert "db copy moves a SQLite installation; this one is already on postgresql" in capsys.readouterr().err


def test_a_store_with_rows_but_no_postgresql_version_stops_the_copy(
    installation, postgres_url, tmp_path, capsys, monkeypatch
):
    config, sqlite = installation
    toy = Component("toy", ("toy_items",), sqlite=["CREATE TABLE toy_items (id INTEGER PRIMARY KEY);"])
    monkeypatch.setattr(migrations, "REGISTRY", [*migrations.REGISTRY, toy])
    migrations.migrate(sqlite)
    with sqlite.connection() as conn:
        conn.execute("INSERT INTO toy_items (id) VALUES (1)")
    assert db(config, "copy", "--to", postgres_url) == 1
    assert capsys.readouterr().err.strip() == (
        "error: toy_items holds 1 row(s) but the toy store has no PostgreSQL version in this goal17; nothing was copied"
    )
    assert all(rows == [] for rows in canonical_export(pg(postgres_url, tmp_path)).values())


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_missing_sqlite_state_is_not_copied_as_an_empty_one(tmp_path, postgres_url, capsys, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "staet"\n', encoding="utf-8")  # a typo
    assert db(config, "copy", "--to", postgres_url) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("error: there is no SQLite state to copy: ")
        and "staet/state.sqlite3 does not exist" in err
    )
    assert not (tmp_path / "staet").exists()
