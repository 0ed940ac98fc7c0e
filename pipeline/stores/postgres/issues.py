"""Newsletter issues in PostgreSQL: the SQLite tables' twins; numbering serialised by a lock.

The issue number stays an explicit ``INTEGER`` key (issues are numbered 1, 2, … by the planner,
not by a sequence), and ``items`` stays JSON text, so a copied database exports byte for byte
like its SQLite original.
"""

from __future__ import annotations

from pipeline.stores.postgres.access import PostgresAccess
from pipeline.stores.sql.issues import SCHEMA_V1, IssueRules

COMPONENT = "newsletter"
ISSUE_LOCK = 0x6F61_1701  # advisory lock key: one issue being created at a time, on any machine

# Never edit an applied script; append a new one (and its SQLite twin; shared SQL in stores/sql/issues.py).
MIGRATIONS = [SCHEMA_V1]


class PostgresIssueStore(PostgresAccess, IssueRules):
    """Issues in the database at ``url`` (its schema made by ``db migrate``)."""

    def _serialise(self) -> None:
        # Two builds on two machines would both plan number N; the second waits, then plans N+1.
        self._advisory_lock(ISSUE_LOCK)


__all__ = ["MIGRATIONS", "PostgresIssueStore"]
