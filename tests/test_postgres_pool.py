"""The connection pool survives a PostgreSQL restart: the next user gets a live connection.

A standby scheduler that waited out a database restart, or a web instance after one, takes a
connection the pool opened before the restart; without a check on checkout that connection is
dead and the first statement fails ("terminating connection due to administrator command").
"""

from __future__ import annotations

import psycopg

from pipeline.stores import postgres


def test_connections_ended_by_the_server_are_replaced_on_checkout(postgres_url: str) -> None:
    with postgres.connection(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid)"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None and ended[0] >= 1  # the pool's idle connection is gone
    for _ in range(3):
        with postgres.connection(postgres_url) as conn:
            assert conn.execute("SELECT 2").fetchone() == (2,)
