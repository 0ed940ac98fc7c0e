"""Moving a SQLite installation to PostgreSQL without loss: copy, reset sequences, verify, or roll back.

``db copy`` works table by table in the registry's order (a table's parents first), all in one
PostgreSQL transaction: a copy that fails half-way, or whose verification finds any difference,
leaves the target exactly as it was. Verification compares, per table, the row counts and a
*canonical export* — every row as a JSON list in a fixed column order, the rows sorted — of both
sides; timestamps are ISO text and ids integers on both backends, so equal data exports equal.

A target that already holds rows is refused (it may be a live installation); ``force=True``
empties the copied tables first, inside the same transaction, so even then a failed copy changes
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeline.stores import migrations
from pipeline.stores.backend import MIGRATION_LOCK, Backend

Rows = list[tuple[Any, ...]]


class CopyError(Exception):
    """The copy cannot be made, or did not verify; nothing was changed. One line, says which table."""


@dataclass
class CopyReport:
    tables: list[tuple[str, int]] = field(default_factory=list)  # (table, rows copied), in order
    skipped: list[str] = field(default_factory=list)  # empty tables of stores not on PostgreSQL yet

    @property
    def rows(self) -> int:
        return sum(count for _table, count in self.tables)


def _websub_file(source: Backend) -> tuple[list[str], Rows]:
    with source.websub_pending() as store:
        return ["url"], [(url,) for url in store.pending()]


# Tables a SQLite installation keeps as files, with how to read them as rows.
SQLITE_FILE_TABLES: dict[str, Callable[[Backend], tuple[list[str], Rows]]] = {
    "websub_pending": _websub_file,
}


def sqlite_table(source: Backend, conn: Any, table: str) -> tuple[list[str], Rows]:
    """(column names in table order, every row) of one table of a SQLite installation."""
    if table in SQLITE_FILE_TABLES:
        return SQLITE_FILE_TABLES[table](source)
    cursor = conn.execute(f'SELECT * FROM "{table}"')
    return [d[0] for d in cursor.description], [tuple(row) for row in cursor.fetchall()]


def postgres_table(conn: Any, table: str, columns: Sequence[str]) -> Rows:
    from psycopg import sql

    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
    )
    return [tuple(row) for row in conn.execute(query).fetchall()]


def postgres_columns(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [row[0] for row in rows]


def canonical(rows: Rows) -> list[str]:
    """Every row as JSON, sorted: equal data gives equal lists, whichever database held it."""
    return sorted(
        json.dumps(list(row), ensure_ascii=False, separators=(",", ":"), default=str) for row in rows
    )


def canonical_export(
    backend: Backend, only: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """Every table of every component this backend stores, canonically, columns by name.

    What ``db copy`` verifies, and what a test or an operator can compare across backends:
    ``only`` (table → columns, e.g. :func:`sqlite_columns` of the source) leaves out what one
    side has and the other has not (PostgreSQL's send log also keeps a claim's lease).
    """
    out: dict[str, list[str]] = {}
    with backend.connection() as conn:
        for table in _tables(backend.name):
            if only is not None and table not in only:
                continue
            if backend.name == "sqlite":
                columns, rows = sqlite_table(backend, conn, table)
                wanted = sorted(only[table] if only is not None else columns)
                order = [columns.index(name) for name in wanted]
                out[table] = canonical([tuple(row[i] for i in order) for row in rows])
            else:
                wanted = sorted(only[table] if only is not None else postgres_columns(conn, table))
                out[table] = canonical(postgres_table(conn, table, wanted))
    return out


def sqlite_columns(backend: Backend) -> dict[str, list[str]]:
    """Table → column names of a SQLite installation (what ``db copy`` copies of each table)."""
    with backend.connection() as conn:
        return {table: sqlite_table(backend, conn, table)[0] for table in _tables("sqlite")}


def _tables(backend_name: str) -> Iterator[str]:
    for item in migrations.components():
        if item.scripts(backend_name) is not None:
            yield from item.tables


def copy_sqlite_to_postgres(source: Backend, target: Backend, *, force: bool = False) -> CopyReport:
    """Copy every component's tables from ``source`` (SQLite) into ``target`` (PostgreSQL).

    Both schemas are brought to this program's version first (SQLite upgrades itself anyway; the
    target is migrated, which also refuses a target a newer goal17 made). Raises
    :class:`CopyError` — with nothing changed in the target — when a store with data has no
    PostgreSQL twin, the target is not empty (without ``force``), or the verification differs.
    """
    migrations.migrate(source)
    migrations.migrate(target)
    report = CopyReport()
    plan: list[tuple[str, list[str], Rows]] = []
    with source.connection() as conn:
        # One read transaction: a snapshot, even while a web service or a sender keeps writing.
        conn.execute("BEGIN")
        for item in migrations.components():
            for table in item.tables:
                if item.scripts("sqlite") is None:
                    continue
                columns, rows = sqlite_table(source, conn, table)
                if item.scripts("postgresql") is None:
                    if rows:
                        raise CopyError(
                            f"{table} holds {len(rows)} row(s) but the {item.name} store has no PostgreSQL "
                            "version in this goal17; nothing was copied"
                        )
                    report.skipped.append(table)
                    continue
                plan.append((table, columns, rows))
        conn.execute("COMMIT")
    with _target_transaction(target) as conn:
        _make_room(conn, [table for table, _c, _r in plan], force)
        for table, columns, rows in plan:
            missing = set(columns) - set(postgres_columns(conn, table))
            if missing:
                raise CopyError(
                    f"{table}: the PostgreSQL table has no column(s) {', '.join(sorted(missing))}"
                )
            _insert(conn, table, columns, rows)
            _reset_identity(conn, table)
            report.tables.append((table, len(rows)))
        for table, columns, rows in plan:
            _verify(conn, table, columns, rows)
    return report


@contextmanager
def _target_transaction(target: Backend) -> Iterator[Any]:
    with target.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))  # one copy or migrate at a time
        yield conn


def _make_room(conn: Any, tables: list[str], force: bool) -> None:
    from psycopg import sql

    held = []
    for table in tables:
        (count,) = conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))).fetchone()
        if count:
            held.append(f"{table}: {count} row(s)")
    if held and not force:
        raise CopyError(
            f"the target database is not empty ({'; '.join(held)}); copy into an empty database, "
            "or pass --force to replace its contents"
        )
    if held:
        names = sql.SQL(", ").join(map(sql.Identifier, tables))
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))


def _insert(conn: Any, table: str, columns: list[str], rows: Rows) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _reset_identity(conn: Any, table: str) -> None:
    """Point each identity column's sequence past the copied ids, so new rows get fresh ones."""
    from psycopg import sql

    identities = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%')",
        (table,),
    ).fetchall()
    for (column,) in identities:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(COALESCE(MAX({c}), 0), 1), "
                "COALESCE(MAX({c}), 0) > 0) FROM {t}"
            ).format(c=sql.Identifier(column), t=sql.Identifier(table)),
            (table, column),
        )


def _verify(conn: Any, table: str, columns: list[str], rows: Rows) -> None:
    copied = postgres_table(conn, table, columns)
    if len(copied) != len(rows):
        raise CopyError(
            f"verification failed for {table}: {len(rows)} row(s) in SQLite, {len(copied)} in PostgreSQL; "
            "nothing was copied"
        )
    if canonical(copied) != canonical(rows):
        raise CopyError(
            f"verification failed for {table}: the rows differ between SQLite and PostgreSQL; nothing was copied"
        )


__all__ = [
    "CopyError",
    "CopyReport",
    "canonical",
    "canonical_export",
    "copy_sqlite_to_postgres",
    "sqlite_columns",
]
