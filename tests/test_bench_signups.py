"""The sign-up benchmark runs end to end on a tiny N (real web processes, both backends)."""

from __future__ import annotations

from bench.signups import measure, table


def test_the_sign_up_benchmark_measures_every_backend_and_instance_count(postgres_server) -> None:
    results = measure(12, 3, postgres_server.new_database, lambda message: None)
    assert [(r["backend"], r["instances"]) for r in results] == [
        ("sqlite", 1),
        ("sqlite", 2),
        ("postgresql", 1),
        ("postgresql", 2),
    ]
    assert all(r["signups"] == 12 and r["per_second"] > 0 for r in results)
    assert table(results).count("\n") == len(results) + 1
