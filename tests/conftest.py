"""Shared test helpers: small real content folders written to tmp_path."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.config.site import Settings, default_settings
from pipeline.locale.cli import cli_language
from tests.store_backends import another_installation, state_backend  # noqa: F401  (store tests on both backends)

REPO = Path(__file__).resolve().parent.parent
# PYTHONDONTWRITEBYTECODE=1 (set on the project's machines) makes every Python process of the
# suite compile the project's modules again: each xdist worker spends ~5 CPU-s more collecting
# (8.4 s instead of 3.0) and each of the few hundred ``python -m pipeline`` runs ~0.06 s more.
# The suite writes the caches instead (__pycache__/: ignored by git and by the code fingerprint,
# pipeline/caching/fingerprint.py). Read here, before xdist starts its workers, so they and every
# subprocess inherit it; a test that needs the variable sets it in its own environment
# (bench/run.py does).
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    sys.dont_write_bytecode = False
# Tests read the CLI's English messages: a Swedish terminal (LANG=sv_SE.UTF-8) must not change them.
if cli_language() not in ("", "en"):
    os.environ["LANGUAGE"] = "en"
NOW = datetime.fromisoformat("2026-11-27T12:00:00+01:00")


def front_matter(**fields: object) -> str:
    """YAML front matter from keyword arguments; lists become flow sequences of quoted strings."""
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, list | tuple):
            inner = ", ".join(f'"{v}"' for v in value)
            lines.append(f"{key}: [{inner}]")
        elif isinstance(value, bool):
            lines.append(f"{key}: {'true' if value else 'false'}")
        else:
            lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n"


WriteUpdate = Callable[..., Path]


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def write_update(content_dir: Path) -> WriteUpdate:
    """write_update("name", title=..., body="...", **front matter) -> path of content/name.md.

    Lines 2-4 are title, id and date (defaults: from the name, a tag URI, 2026-11-01T10:00),
    other fields follow in the order given; pass ``id=None`` etc. to leave one out.
    """

    def write(name: str, body: str = "Text.\n", **fields: object) -> Path:
        defaults = {
            "title": name.replace("-", " ").capitalize(),
            "id": f"tag:test.example,2026:{name}",
            "date": "2026-11-01T10:00",
        }
        fields = {k: v for k, v in {**defaults, **fields}.items() if v is not None}
        path = content_dir / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(front_matter(**fields) + textwrap.dedent(body), encoding="utf-8")
        return path

    return write


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the state folder inside tmp_path."""
    return default_settings(state_dir=str(tmp_path / "state"))


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole session (tests/pg_server.py).

    Missing PostgreSQL programs skip the PostgreSQL tests on a developer's machine, but fail them
    in CI (``CI`` set), where ``.ci/run`` installs Debian's ``postgresql``: a skip there would hide it.
    """
    import os

    from tests.pg_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a fresh, empty PostgreSQL database for one test.

    Afterwards this process's connection pools are closed and cached backends dropped: a pool
    keeps worker threads, and a process with other threads never forks (pipeline/forkpool.py),
    which tests of the build caches that follow would notice.
    """
    from pipeline.stores import postgres
    from pipeline.stores.backend import forget_backends

    yield postgres_server.new_database()
    forget_backends()
    postgres.close_all()
