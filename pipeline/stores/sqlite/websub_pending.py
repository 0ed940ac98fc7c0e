"""The WebSub pending list with SQLite: ``websub-pending.json`` in the state folder, as before.

Why a file and not a table: it is what existing state folders have, it needs no migration, and
on one machine a ``flock`` around read-change-write is all the coordination there is to have.
(``db copy`` moves it into PostgreSQL's ``websub_pending`` table.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.stores.locks import FileLock

PENDING_FILE = "websub-pending.json"


class PendingListDamaged(ValueError):
    """The file cannot be read; the message names it and says how to recover."""


class FileWebSubPending:
    """The pending list in ``state_dir/websub-pending.json``, changed under an exclusive lock."""

    def __init__(self, state_dir: str | Path):
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / PENDING_FILE

    def __enter__(self) -> FileWebSubPending:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add(self, urls: Iterable[str]) -> None:
        # Never fail a build that has already been published over a damaged pending list.
        with self._locked(tolerant=True) as current:
            self._save(sorted(set(current) | set(urls)))

    def pending(self) -> list[str]:
        with self._locked() as current:
            return current

    def remove(self, urls: Iterable[str]) -> None:
        done = set(urls)
        with self._locked() as current:
            self._save([url for url in current if url not in done])

    @contextmanager
    def _locked(self, tolerant: bool = False) -> Iterator[list[str]]:
        """The list under an exclusive lock (a build and a ping may run at the same time)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(self.state_dir / (PENDING_FILE + ".lock"), wait=True, record_pid=False):
            try:
                current = json.loads(self.path.read_text("utf-8"))["urls"] if self.path.exists() else []
                if not all(isinstance(url, str) for url in current):
                    raise TypeError("'urls' must be a list of strings")
            except (ValueError, KeyError, TypeError) as exc:
                if not tolerant:
                    raise PendingListDamaged(
                        f"{self.path}: unreadable ({exc}); delete it and run 'ping --all'"
                    ) from None
                current = []
            yield current

    def _save(self, urls: list[str]) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"urls": sorted(urls)}, indent=2) + "\n", "utf-8")
        os.replace(temporary, self.path)


__all__ = ["PENDING_FILE", "FileWebSubPending", "PendingListDamaged"]
