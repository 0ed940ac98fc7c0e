"""Versioned schemas for every store, on every backend: one registry, ``migrate`` and ``check``.

Each *component* (a store's group of tables) has a numbered list of migration scripts per backend;
its version is how many of them were applied, recorded in the ``schema_versions`` table of that
database (the same table, names and numbers the SQLite state folder has always had, so an existing
state folder keeps working). Append scripts, never edit an applied one.

Why two rules: SQLite is embedded and single-machine, so it keeps upgrading itself when a store
opens it, as it always did; PostgreSQL is shared by many instances, so it is changed only by
``python -m pipeline db migrate`` and every start only *checks* it. Both refuse a database that a
newer goal17 upgraded (an older program must not write to tables it does not understand).

The registry names the scripts as ``"module:ATTRIBUTE"`` strings, resolved when needed: the
stores import this module, so importing theirs here at load time would be a cycle, and a command
that only checks versions need not import every store. Each store owner keeps one block below.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.stores.errors import SchemaError as SchemaError  # where it has always been importable

if TYPE_CHECKING:
    from pipeline.stores.backend import Backend

MIGRATE_HINT = "run python -m pipeline db migrate"


@dataclass(frozen=True)
class Component:
    """A store's tables (parents before children: the order ``db copy`` fills them) and scripts.

    ``sqlite`` and ``postgresql`` are sequences of scripts or a ``"module:ATTRIBUTE"`` reference to
    one; ``None`` means the store has no implementation on that backend yet.
    """

    name: str
    tables: tuple[str, ...]
    sqlite: str | Sequence[str] | None = None
    postgresql: str | Sequence[str] | None = None

    def scripts(self, backend: str) -> tuple[str, ...] | None:
        """The migration scripts for ``backend`` ("sqlite" or "postgresql"), or None."""
        value = getattr(self, backend)
        if value is None:
            return None
        if isinstance(value, str):
            module, _, attribute = value.partition(":")
            value = getattr(importlib.import_module(module), attribute)
        return tuple(value)


# The registry, in dependency order (a component's tables may refer only to earlier ones).
REGISTRY: list[Component] = []

# -- subscribers (stores) ---------------------------------------------------------------------
REGISTRY.append(
    Component(
        "subscribers",
        ("subscribers", "subscriber_consent", "subscriber_suppressions"),
        sqlite="pipeline.stores.sqlite.subscribers:MIGRATIONS",
        postgresql="pipeline.stores.postgres.subscribers:MIGRATIONS",
    )
)

# -- issues (stores) --------------------------------------------------------------------------
REGISTRY.append(
    Component(
        "newsletter",
        ("newsletter_issues", "newsletter_issue_updates"),
        sqlite="pipeline.stores.sqlite.issues:MIGRATIONS",
        postgresql="pipeline.stores.postgres.issues:MIGRATIONS",
    )
)

# -- send log (pg-send) -----------------------------------------------------------------------
REGISTRY.append(
    Component(
        "newsletter_delivery",
        ("newsletter_sends",),
        sqlite="pipeline.stores.sqlite.send_log:MIGRATIONS",
        postgresql="pipeline.stores.postgres.send_log:MIGRATIONS",
    )
)

# -- schedule run history (pg-ops) ------------------------------------------------------------
REGISTRY.append(
    Component(
        "schedule",
        ("schedule_runs", "schedule_jobs"),
        sqlite="pipeline.stores.sqlite.history:MIGRATIONS",
        postgresql="pipeline.stores.postgres.history:MIGRATIONS",
    )
)

# -- web service: rate limits, per client (PostgreSQL) and per address (pg-ops) ---------------
REGISTRY.append(
    Component(
        "web",
        ("web_mails",),  # and, on PostgreSQL only, web_client_hits: an hour of counts, never copied
        sqlite="pipeline.stores.sqlite.rate_limits:MIGRATIONS",
        postgresql="pipeline.stores.postgres.rate_limits:MIGRATIONS",
    )
)

# -- WebSub pending list (stores): SQLite keeps its file, so it has no scripts there ----------
REGISTRY.append(
    Component(
        "websub",
        ("websub_pending",),
        sqlite=(),
        postgresql="pipeline.stores.postgres.websub_pending:MIGRATIONS",
    )
)

# -- end of the registry ----------------------------------------------------------------------


def components() -> tuple[Component, ...]:
    """Every registered component, parents first."""
    return tuple(REGISTRY)


def component(name: str) -> Component:
    for found in REGISTRY:
        if found.name == name:
            return found
    raise KeyError(f"no schema component {name!r}")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    database: int  # the version recorded in the database (0: never created)
    code: int | None  # how many scripts this program has (None: no store on this backend)

    @property
    def state(self) -> str:
        if self.code is None:
            return "not on this backend"
        if self.database == self.code:
            return "up to date"
        if self.database < self.code:
            return "older: " + MIGRATE_HINT
        return "newer than this goal17"


def status(backend: Backend) -> list[ComponentStatus]:
    """Each component's version in the database next to the code's."""
    recorded = backend.schema_versions()
    found = [
        ComponentStatus(c.name, recorded.get(c.name, 0), _count(c.scripts(backend.name))) for c in REGISTRY
    ]
    known = {c.name for c in REGISTRY}
    # A component this program does not know at all was made by a newer goal17.
    found += [
        ComponentStatus(name, version, None)
        for name, version in sorted(recorded.items())
        if name not in known
    ]
    return found


def migrate(backend: Backend) -> list[str]:
    """Apply every missing migration, component by component; returns what was done, one line each.

    Idempotent: a second run applies nothing. Refuses (``SchemaError``) a component that is newer.
    """
    done = []
    for item in REGISTRY:
        scripts = item.scripts(backend.name)
        if scripts is None:
            continue
        before, after = backend.apply_migrations(item.name, scripts)
        if after != before:
            done.append(f"{item.name}: version {before} → {after}")
    return done


def check(backend: Backend, *, allow_older: bool = False) -> None:
    """Raise ``SchemaError`` (one clear line) unless every component's schema matches the code.

    ``allow_older``: only a newer schema is an error (SQLite, where each store upgrades its own
    tables when it opens them, and a component not used yet may not exist at all).
    """
    for entry in status(backend):
        if entry.code is None:
            if entry.name not in {c.name for c in REGISTRY}:
                raise newer_error(entry.name, entry.database, 0)
            continue
        if entry.database > entry.code:
            raise newer_error(entry.name, entry.database, entry.code)
        if entry.database < entry.code and not allow_older:
            raise SchemaError(
                f"the database schema of {backend.display_url} is older than this goal17 "
                f"({entry.name}: version {entry.database}, the code needs {entry.code}); {MIGRATE_HINT}"
            )


def newer_error(name: str, database: int, code: int) -> SchemaError:
    """The one message for a schema newer than the code, whichever backend finds it."""
    return SchemaError(
        f"this database was upgraded by a newer goal17 ({name}: version {database}, this goal17 knows "
        f"{code}); upgrade goal17 here too, or restore a backup"
    )


def _count(scripts: tuple[str, ...] | None) -> int | None:
    return None if scripts is None else len(scripts)


__all__ = [
    "REGISTRY",
    "Component",
    "ComponentStatus",
    "SchemaError",
    "check",
    "component",
    "components",
    "migrate",
    "newer_error",
    "status",
]
