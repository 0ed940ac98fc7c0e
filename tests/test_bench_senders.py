"""``python -m bench.senders`` works end to end on a tiny list: every figure measured, none made up."""

from __future__ import annotations

from bench.senders import SENDERS, measure, table


def test_the_senders_benchmark_measures_both_backends(postgres_server) -> None:
    said: list[str] = []
    results = measure(20, postgres_server.new_database, said.append)
    assert [(r["backend"], r["senders"]) for r in results] == [
        (backend, count) for backend in ("sqlite", "postgresql") for count in SENDERS
    ]
    assert all(r["sends_per_s"] > 0 and r["seconds"] > 0 for r in results)
    # SQLite admits one sender per state folder (a late one may find the tiny list already done
    # rather than refused); PostgreSQL refuses none
    assert all(0 <= r["refused"] < r["senders"] for r in results if r["backend"] == "sqlite")
    assert [r["refused"] for r in results if r["backend"] == "postgresql"] == [0] * len(SENDERS)
    assert len(said) == len(results) and "| postgresql | 4 |" in table(results)
