"""The end of a backend benchmark's ``main``: a throw-away PostgreSQL for the run, then the table.

:mod:`bench.senders` and :mod:`bench.signups` both measure SQLite against PostgreSQL on a local
server the test suite's way (``tests/pg_server.py``: ``fsync=off``, a database per measurement),
and must close every pooled connection before that server stops.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

Measure = Callable[[Callable[[], str], Callable[[str], None]], list[dict]]


def say(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


def measure_and_report(measure: Measure, table: Callable[[list[dict]], str], json_path: Path | None) -> int:
    """``measure(new_database, say)`` on a fresh server; print ``table(results)``, also write JSON if asked."""
    from pipeline.stores.postgres import close_all
    from tests.pg_server import PostgresServer

    server = PostgresServer().start()
    try:
        results = measure(server.new_database, say)
    finally:
        close_all()
        server.stop()
    print(table(results))
    if json_path:
        json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


__all__ = ["measure_and_report", "say"]
