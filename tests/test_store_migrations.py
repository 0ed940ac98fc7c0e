"""The schema registry: migrate applies what is missing once, check refuses older and newer schemas."""

from __future__ import annotations

import pytest

from pipeline.config.state import StateConfig
from pipeline.stores import migrations, statedb
from pipeline.stores.backend import backend_for
from pipeline.stores.migrations import Component, SchemaError


def _sqlite(tmp_path) -> StateConfig:
    return StateConfig("sqlite", tmp_path / "state", "", "default")


def _postgres(url: str, tmp_path) -> StateConfig:
    return StateConfig("postgresql", tmp_path / "state", url, "file")


@pytest.fixture
def toy(monkeypatch):
    """A registry of one small component, so the rules are tested apart from the real stores."""
    scripts = [
        "CREATE TABLE toy_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
        "CREATE TABLE toy_tags (item INTEGER NOT NULL REFERENCES toy_items (id), tag TEXT NOT NULL);"
        "\nCREATE INDEX toy_tags_item ON toy_tags (item);",
    ]
    monkeypatch.setattr(
        migrations, "REGISTRY", [Component("toy", ("toy_items", "toy_tags"), scripts, scripts)]
    )
    return scripts


@pytest.fixture(params=["sqlite", "postgresql"])
def any_backend(request, tmp_path):
    if request.param == "sqlite":
        return backend_for(_sqlite(tmp_path))
    return backend_for(_postgres(request.getfixturevalue("postgres_url"), tmp_path))


def test_migrate_applies_missing_versions_once_and_says_what(toy, any_backend):
    assert migrations.migrate(any_backend) == ["toy: version 0 → 2"]
    assert migrations.migrate(any_backend) == []
    migrations.check(any_backend)
    assert [(s.name, s.database, s.code, s.state) for s in migrations.status(any_backend)] == [
        ("toy", 2, 2, "up to date")
    ]


def test_older_schema_asks_for_db_migrate_and_newer_is_refused(toy, any_backend, monkeypatch):
    migrations.migrate(any_backend)
    toy.append("CREATE TABLE toy_more (id INTEGER PRIMARY KEY);")
    with pytest.raises(
        SchemaError,
        match=r"older than this goal17 \(toy: version 2, the code needs 3\); run python -m pipeline db migrate",
    ):
        migrations.check(any_backend)
    assert migrations.migrate(any_backend) == ["toy: version 2 → 3"]
    del toy[1:]
    with pytest.raises(
        SchemaError, match=r"upgraded by a newer goal17 \(toy: version 3, this goal17 knows 1\)"
    ):
        migrations.check(any_backend)
    with pytest.raises(SchemaError, match="newer goal17"):
        migrations.migrate(any_backend)


def test_a_component_unknown_to_this_program_is_newer(toy, any_backend):
    migrations.migrate(any_backend)
    with any_backend.connection() as conn:
        conn.execute("INSERT INTO schema_versions (component, version) VALUES ('future', 1)")
    with pytest.raises(SchemaError, match=r"newer goal17 \(future: version 1"):
        migrations.check(any_backend)


def test_sqlite_upgrades_itself_on_start_but_postgresql_only_by_migrate(toy, tmp_path, postgres_url):
    sqlite = backend_for(_sqlite(tmp_path))
    sqlite.start()  # an older (here: empty) SQLite database is fine: each store upgrades its tables
    sqlite.prepare("toy")
    assert sqlite.schema_versions() == {"toy": 2}
    postgres = backend_for(_postgres(postgres_url, tmp_path))
    with pytest.raises(SchemaError, match="toy: version 0, the code needs 2"):
        postgres.start()
    postgres.prepare("toy")
    assert postgres.schema_versions() == {}
    migrations.migrate(postgres)
    postgres.start()


def test_every_real_component_migrates_an_empty_sqlite_state_folder(tmp_path):
    backend = backend_for(_sqlite(tmp_path))
    done = migrations.migrate(backend)
    with_tables = [c for c in migrations.components() if c.scripts("sqlite")]  # websub: a file
    assert [line.split(":")[0] for line in done] == [c.name for c in with_tables]
    with backend.connection() as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for item in with_tables:
        assert set(item.tables) <= tables, item.name


def test_a_store_refuses_a_sqlite_database_from_a_newer_goal17(tmp_path):
    backend = backend_for(_sqlite(tmp_path))
    migrations.migrate(backend)
    with backend.connection() as conn:
        conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'subscribers'")
    with pytest.raises(SchemaError, match="subscribers: version 99"), backend.connection() as conn:
        statedb.ensure_schema(conn, "subscribers", migrations.component("subscribers").scripts("sqlite"))
    with pytest.raises(SchemaError, match="newer goal17"):
        backend.start()
