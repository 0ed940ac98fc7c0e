"""Store tests run once per backend: the ``state_backend`` fixture (import it into a test module).

``state_backend`` is a migrated :class:`~pipeline.stores.backend.Backend`, parametrised over
``["sqlite", "postgresql"]``. For PostgreSQL it also sets ``GOAL17_DATABASE_URL`` to the same
fresh database, so commands run by a test (``main([...])``) use it too; for SQLite the state
folder is ``tmp_path / "state"`` (what ``[site] state_dir = "state"`` beside a site.toml in
``tmp_path`` names). ``another_installation(backend, folder)`` gives a second, empty one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.config.state import ENVIRONMENT_VARIABLE, StateConfig
from pipeline.stores import migrations, postgres
from pipeline.stores.backend import Backend, backend_for, forget_backends

BACKEND_NAMES = ["sqlite", "postgresql"]


def migrated(config: StateConfig) -> Backend:
    backend = backend_for(config)
    migrations.migrate(backend)
    return backend


@pytest.fixture(params=BACKEND_NAMES)
def state_backend(request, tmp_path: Path, monkeypatch) -> Iterator[Backend]:
    if request.param == "sqlite":
        monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
        config = StateConfig("sqlite", tmp_path / "state", "", "default")
    else:
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, url)
        config = StateConfig("postgresql", tmp_path / "state", url, ENVIRONMENT_VARIABLE)
    yield migrated(config)
    forget_backends()
    postgres.close_all()


@pytest.fixture
def another_installation(request, tmp_path: Path, monkeypatch) -> Callable[[Backend, str], Backend]:
    """``(backend, folder)`` → an empty, migrated backend of the same kind, and the environment
    pointed at it (PostgreSQL: a new database; SQLite: ``tmp_path / folder``)."""

    def make(like: Backend, folder: str) -> Backend:
        if like.name == "sqlite":
            return migrated(StateConfig("sqlite", tmp_path / folder, "", "default"))
        url = request.getfixturevalue("postgres_server").new_database()
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, url)
        return migrated(StateConfig("postgresql", tmp_path / folder, url, ENVIRONMENT_VARIABLE))

    return make
