"""``db``: the state database: migrate its schema, show its status, copy SQLite to PostgreSQL.

The state database of the configured backend (GOAL17_DATABASE_URL, else [state] database_url, else
SQLite in state_dir).

PostgreSQL is shared by every instance, so its schema changes only when an operator says so
(``db migrate``, once per upgrade); every other command checks it and refuses to run against an
older or newer one. SQLite keeps upgrading itself; ``db migrate`` on it just does it now.
``db copy`` moves a SQLite installation into an empty PostgreSQL database (see
:mod:`pipeline.stores.transfer`).
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from pipeline.commands._options import CommandFailed, add_config, settings_from
from pipeline.config.site import Settings, SettingsError
from pipeline.config.state import SCHEMES, StateConfig, redact
from pipeline.stores import migrations, statedb
from pipeline.stores.backend import Backend, backend_for

ORDER = 45


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="apply the schema migrations this goal17 has and the database lacks (idempotent)",
        description="Bring the configured database's schema up to this goal17's version; prints each change.",
    )
    status = actions.add_parser(
        "status",
        help="the backend, its database (password hidden) and each component's schema version",
        description=(
            "Show the backend and each component's schema version in the database next to this "
            "goal17's. Exits 1 when this goal17 would refuse to run against it."
        ),
    )
    copy = actions.add_parser(
        "copy",
        help="copy this SQLite installation into a PostgreSQL database, verified",
        description=(
            "Copy every table of the configured SQLite state (subscribers and consent log, issues, "
            "send log, schedule history, WebSub pending, …) into an empty PostgreSQL database, in "
            "one transaction; sequences are reset, then both sides are compared by row counts and "
            "by an export of every row. Any difference rolls the copy back. The SQLite state is "
            "only read (and upgraded to this goal17's schema first, as any command does)."
        ),
    )
    copy.add_argument("--to", metavar="URL", required=True, help="the target, a postgresql:// URL")
    copy.add_argument(
        "--force",
        action="store_true",
        help="replace the target's rows if it is not empty (still all or nothing)",
    )
    for sub in (migrate, status, copy):
        add_config(sub)
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        config = settings.state
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    backend = backend_for(config)
    if args.action == "migrate":
        return _migrate(backend)
    if args.action == "status":
        return _status(backend)
    return _copy(backend, settings, args.to, force=args.force)


def _migrate(backend: Backend) -> int:
    _probe(backend)
    done = migrations.migrate(backend)
    for line in done:
        print(f"migrated {line}")
    where = f"{backend.name} {backend.display_url}"
    if done:
        print(f"{where}: schema up to date ({len(done)} component(s) changed)")
    else:
        print(f"{where}: schema already up to date, nothing to do")
    return 0


def _status(backend: Backend) -> int:
    _probe(backend)
    source = {"default": "the default", "file": "from [state] database_url"}.get(
        backend.config.source, f"from {backend.config.source}"
    )
    print(f"backend: {backend.name} ({backend.display_url}, {source})")
    entries = migrations.status(backend)
    width = max(len(e.name) for e in entries)
    for entry in entries:
        code = "-" if entry.code is None else str(entry.code)
        print(f"  {entry.name:<{width}}  database {entry.database}  code {code}  {_state(backend, entry)}")
    try:
        migrations.check(backend, allow_older=backend.name == "sqlite")
    except migrations.SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _state(backend: Backend, entry: migrations.ComponentStatus) -> str:
    if entry.code == 0:
        return "no tables on this backend (a file in the state folder)"
    if backend.name == "sqlite" and entry.code is not None and entry.database < entry.code:
        return "older: upgraded when next opened"
    return entry.state


def _copy(source: Backend, settings: Settings, url: str, *, force: bool) -> int:
    from pipeline.stores.transfer import CopyError, copy_sqlite_to_postgres

    if source.name != "sqlite":
        raise CommandFailed(
            f"db copy moves a SQLite installation; this one is already on {source.name} "
            f"({source.display_url}); unset GOAL17_DATABASE_URL to copy the SQLite state in {settings.state_dir}"
        )
    database = source.config.state_dir / statedb.DB_NAME
    if not database.is_file():
        raise CommandFailed(
            f"there is no SQLite state to copy: {database} does not exist (check [site] state_dir)"
        )
    target = backend_for(StateConfig("postgresql", settings.state_dir, _target_url(url), "--to"))
    _probe(target)
    try:
        report = copy_sqlite_to_postgres(source, target, force=force)
    except CopyError as exc:
        raise CommandFailed(str(exc)) from None
    for table, count in report.tables:
        print(f"copied {count:>7} row(s)  {table}")
    for table in report.skipped:
        print(f"skipped {table} (empty; no PostgreSQL version of its store)")
    print(
        f"verified: {len(report.tables)} table(s), {report.rows} row(s), identical in {source.display_url} "
        f"and {target.display_url}"
    )
    print(f"to use it: GOAL17_DATABASE_URL={target.display_url} (or [state] database_url in site.toml)")
    return 0


def _target_url(url: str) -> str:
    if redact(url.strip()).endswith("://***"):
        raise CommandFailed(f"--to is not a valid URL: {redact(url.strip())!r}")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES:
        raise CommandFailed(f"--to must be a postgresql:// URL, got {redact(url)!r}")
    if not parts.hostname and "host=" not in parts.query:
        raise CommandFailed(
            f"--to names no host: {redact(url)!r} (e.g. postgresql://goal17@db.example.se/goal17)"
        )
    return url.strip()


def _probe(backend: Backend) -> None:
    """Reach a PostgreSQL database at once, with one clear line (the pool would retry for 15 s)."""
    if backend.name != "postgresql":
        return
    import psycopg

    try:
        psycopg.connect(backend.config.database_url, connect_timeout=10).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandFailed(f"cannot connect to {backend.display_url}: {reason}") from None
