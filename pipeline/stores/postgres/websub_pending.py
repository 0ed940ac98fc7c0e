"""The WebSub pending list in PostgreSQL: one row per feed URL, shared by every instance.

A build on one machine and a ping on another may run at once: adding is ``INSERT … ON CONFLICT
DO NOTHING`` and removing deletes only the URLs the hub accepted, so neither loses the other's.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.stores.postgres.access import PostgresAccess

COMPONENT = "websub"

# Never edit an applied script; append a new one.
MIGRATIONS = [
    """
    CREATE TABLE websub_pending (
        url TEXT PRIMARY KEY
    );
    """,
]


class PostgresWebSubPending(PostgresAccess):
    """Feed URLs still owed a hub ping, in the database at ``url``."""

    def __enter__(self) -> PostgresWebSubPending:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, urls: Iterable[str]) -> None:
        rows = [(url,) for url in sorted(set(urls))]
        if rows:
            with self._transaction():
                self._run_many(
                    "INSERT INTO websub_pending (url) VALUES (?) ON CONFLICT (url) DO NOTHING", rows
                )

    def pending(self) -> list[str]:
        return [row["url"] for row in self._all('SELECT url FROM websub_pending ORDER BY url COLLATE "C"')]

    def remove(self, urls: Iterable[str]) -> None:
        done = sorted(set(urls))
        if done:
            self._run("DELETE FROM websub_pending WHERE url = ANY(?)", (done,))


__all__ = ["MIGRATIONS", "PostgresWebSubPending"]
