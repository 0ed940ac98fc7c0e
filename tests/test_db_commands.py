"""``db migrate`` and ``db status``, the start-up check of every command, and a state folder from before.

The old state folder is made here from the schema as it was on main before the stores moved
behind the backend seam: the first scripts of the stores' append-only SQLite migration lists, whose
fingerprint is frozen below (it must never follow the code).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.state import ENVIRONMENT_VARIABLE, StateConfig
from pipeline.stores import migrations
from pipeline.stores.backend import backend_for
from pipeline.stores.transfer import canonical_export, sqlite_columns
from tests.conftest import NOW

# -- the schema of a state folder made before this change ----------------------------------------
# The stores' SQLite migration lists are append-only, so the schema as it was is the first scripts of
# each list (how many: OLD_VERSIONS). Their fingerprint is frozen here instead of a second copy of the
# SQL: an edited applied script changes it, and this test fails rather than follow the code.

OLD_VERSIONS = {"subscribers": 1, "newsletter": 1, "newsletter_delivery": 2, "schedule": 1, "web": 1}
OLD_SCHEMA_SHA256 = "c511ee50c9e159570be66e14ee9bf08e8af4020d6b347e8ec570604d0545eb59"


def old_scripts() -> list[str]:
    """The SQLite scripts a state folder from before had applied, components in dependency order."""
    return [
        script
        for name, version in OLD_VERSIONS.items()
        for script in migrations.component(name).scripts("sqlite")[:version]
    ]


def test_the_old_schema_is_still_the_first_scripts_of_each_list() -> None:
    digest = hashlib.sha256("\x00".join(old_scripts()).encode("utf-8")).hexdigest()
    assert digest == OLD_SCHEMA_SHA256, "an applied SQLite migration script was edited: append one instead"


OLD_ROWS = [
    "INSERT INTO subscribers (id, uid, email, email_key, lang, targets, status, created_at, updated_at, "
    "confirmed_at, unsubscribed_at, consent_source, consent_at, consent_page) VALUES "
    "(1, 'uid-anna-001', 'Anna@example.se', 'anna@example.se', 'sv', '17.9', 'active', '2026-10-01T08:00:00Z', "
    "'2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z', NULL, 'cli', '2026-10-01T08:00:00Z', NULL), "
    "(2, 'uid-bo-00002', 'bo@example.se', 'bo@example.se', 'en', '', 'unsubscribed', '2026-10-02T08:00:00Z', "
    "'2026-10-09T08:00:00Z', '2026-10-02T09:00:00Z', '2026-10-09T08:00:00Z', 'form', '2026-10-02T08:00:00Z', "
    "'https://partner.example/')",
    "INSERT INTO subscriber_consent (subscriber_id, event, source, page, at, detail) VALUES "
    "(1, 'subscribed', 'cli', NULL, '2026-10-01T08:00:00Z', 'status active'), "
    "(2, 'subscribed', 'form', 'https://partner.example/', '2026-10-02T08:00:00Z', 'status pending'), "
    "(2, 'confirmed', 'form', NULL, '2026-10-02T09:00:00Z', NULL), "
    "(2, 'unsubscribed', 'form', NULL, '2026-10-09T08:00:00Z', NULL)",
    "INSERT INTO newsletter_issues (number, window_start, window_end, created_at, items) VALUES "
    "(1, '2026-10-01T00:00:00Z', '2026-11-02T07:00:00Z', '2026-11-02T07:00:00Z', '[]')",
    "INSERT INTO newsletter_sends (issue, subscriber_id, status, attempts, ambiguous, message_id, transport, "
    "claimed_at, sent_at) VALUES (1, 1, 'sent', 1, 0, '<1.uid-anna-001@example.se>', 'smtp', "
    "'2026-11-02T07:00:01Z', '2026-11-02T07:00:02Z')",
    "INSERT INTO schedule_runs (job, kind, trigger, scheduled_for, started_at, finished_at, duration_s, outcome) "
    "VALUES ('newsletter', 'newsletter', 'schedule', '2026-11-02T07:00:00.000Z', '2026-11-02T07:00:00.100Z', "
    "'2026-11-02T07:00:03.000Z', 2.9, 'success')",
]


def make_old_state_folder(folder: Path) -> None:
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "state.sqlite3")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    for script in old_scripts():
        conn.executescript(script)
    conn.executemany("INSERT INTO schema_versions VALUES (?, ?)", OLD_VERSIONS.items())
    for statement in OLD_ROWS:
        conn.execute(statement)
    conn.commit()
    conn.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    return config


def run(config: Path, *argv: str) -> int:
    return main([argv[0], argv[1], "--config", str(config), *argv[2:]])


def test_a_state_folder_from_before_keeps_working(site: Path, tmp_path: Path, capsys, postgres_url) -> None:
    make_old_state_folder(tmp_path / "state")
    assert run(site, "db", "status") == 0
    out = capsys.readouterr().out
    assert "backend: sqlite" in out and "subscribers          database 1  code 1  up to date" in out
    assert run(site, "subscribers", "list", "--now", NOW.isoformat()) == 0
    listed = capsys.readouterr().out
    assert "Anna@example.se\tactive\tsv\t17.9" in listed and "bo@example.se\tunsubscribed" in listed
    assert run(site, "subscribers", "consent", "bo@example.se") == 0
    assert '"event": "unsubscribed"' in capsys.readouterr().out
    assert run(site, "subscribers", "add", "cecilia@example.se", "--now", NOW.isoformat()) == 0
    backend = backend_for(StateConfig("sqlite", tmp_path / "state", "", "default"))
    with backend.subscribers() as store:
        assert store.find("cecilia@example.se").id == 3  # after the old ids
    with backend.issues() as issues:
        assert [i.number for i in issues.all()] == [1]
    assert run(site, "db", "migrate") == 0
    assert "schema already up to date" in capsys.readouterr().out
    assert backend.schema_versions() == {
        **OLD_VERSIONS,
        **{c.name: len(c.scripts("sqlite")) for c in migrations.components() if c.scripts("sqlite")},
    }
    # … and moves to PostgreSQL whole: its send log and run history too.
    assert run(site, "db", "copy", "--to", postgres_url) == 0
    assert "copied       1 row(s)  newsletter_sends" in capsys.readouterr().out
    target = backend_for(StateConfig("postgresql", tmp_path / "state", postgres_url, "--to"))
    columns = sqlite_columns(backend)
    assert canonical_export(target, columns) == canonical_export(backend, columns)


def test_sqlite_refuses_a_state_folder_from_a_newer_goal17_at_start(
    site: Path, tmp_path: Path, capsys
) -> None:
    make_old_state_folder(tmp_path / "state")
    conn = sqlite3.connect(tmp_path / "state" / "state.sqlite3")
    conn.execute("INSERT INTO schema_versions VALUES ('audit_trail', 1)")  # a component we do not know
    conn.commit()
    conn.close()
    assert run(site, "subscribers", "list") == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: this database was upgraded by a newer goal17 (audit_trail: version 1, this goal17 knows 0); "
        "upgrade goal17 here too, or restore a backup"
    )
    assert run(site, "db", "status") == 1
    captured = capsys.readouterr()
    assert "audit_trail          database 1  code -  not on this backend" in captured.out
    assert "newer goal17" in captured.err


def test_migrate_is_idempotent_and_status_hides_the_password(
    site: Path, postgres_url: str, monkeypatch, capsys
) -> None:
    url = postgres_url.replace(
        "goal17@", "goal17:hemligt@"
    )  # the test server trusts; the password is for show
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, url)
    assert run(site, "db", "status") == 1
    captured = capsys.readouterr()
    assert "subscribers          database 0  code 1  older: run python -m pipeline db migrate" in captured.out
    assert "run python -m pipeline db migrate" in captured.err
    assert run(site, "db", "migrate") == 0
    out = capsys.readouterr().out
    assert "migrated subscribers: version 0 → 1" in out and "migrated newsletter: version 0 → 1" in out
    assert run(site, "db", "migrate") == 0
    assert "schema already up to date, nothing to do" in capsys.readouterr().out
    assert run(site, "db", "status") == 0
    captured = capsys.readouterr()
    assert "backend: postgresql (postgresql://goal17:***@127.0.0.1:" in captured.out
    assert (
        "from GOAL17_DATABASE_URL" in captured.out
        and "subscribers          database 1  code 1  up to date" in captured.out
    )
    assert "hemligt" not in captured.out + captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ("subscribers", "list"),
        ("subscribers", "add", "a@example.se"),
        ("newsletter", "preview", "--issue", "1"),
    ],
)
def test_every_command_that_opens_state_checks_the_postgresql_schema_first(
    site: Path, postgres_url: str, monkeypatch, capsys, argv
) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, postgres_url)
    assert run(site, *argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the database schema of postgresql://") and err.strip().endswith(
        "run python -m pipeline db migrate"
    ), err
    assert len(err.strip().splitlines()) == 1
    backend = backend_for(
        StateConfig("postgresql", site.parent / "state", postgres_url, ENVIRONMENT_VARIABLE)
    )
    migrations.migrate(backend)
    with backend.connection() as conn:
        conn.execute("UPDATE schema_versions SET version = 5 WHERE component = 'newsletter'")
    from pipeline.stores.backend import forget_backends

    forget_backends()  # a new process would check again
    assert run(site, *argv) == 1
    assert (
        "error: this database was upgraded by a newer goal17 (newsletter: version 5"
        in capsys.readouterr().err
    )


def test_an_unreachable_database_is_one_line(site: Path, monkeypatch, capsys) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, f"postgresql://goal17:hemligt@127.0.0.1:{port}/goal17")
    for argv in (("db", "status"), ("db", "migrate")):
        assert run(site, *argv) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot connect to postgresql://goal17:***@127.0.0.1:{port}/goal17: ")
        assert len(err.strip().splitlines()) == 1 and "hemligt" not in err


@pytest.mark.parametrize(
    "url", ["postgresql://goal17:hemligt@[db.example.se/goal17", "postgresql://goal17:hemligt@db:99999/x"]
)
def test_a_url_that_cannot_be_parsed_is_a_settings_error(site: Path, monkeypatch, capsys, url: str) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, url)
    assert run(site, "db", "status") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: GOAL17_DATABASE_URL: is not a valid URL: 'postgresql://***'"), err
    assert "hemligt" not in err and "internal error" not in err
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)
    assert run(site, "subscribers", "add", "a@example.se") == 0
    capsys.readouterr()
    assert run(site, "db", "copy", "--to", url) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: --to is not a valid URL: 'postgresql://***'", err


def test_an_unreachable_database_is_one_line_for_every_command_and_names_the_reason(tmp_path: Path) -> None:
    """In a real process (no pytest log capture): psycopg_pool's own warnings must not show."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "site.toml").write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    env = {**os.environ, ENVIRONMENT_VARIABLE: f"postgresql://goal17:hemligt@127.0.0.1:{port}/goal17"}
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "subscribers", "list", "--config", str(tmp_path / "site.toml")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"error: cannot connect to the database postgresql://goal17:***@127.0.0.1:{port}/"
    )
    assert "Connection refused" in lines[0] and "hemligt" not in done.stderr
