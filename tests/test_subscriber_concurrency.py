"""Several processes signing up one address at the same moment get one subscriber (both backends).

On PostgreSQL each instance checks for the address and inserts it in its own transaction; the
unique ``email_key`` and ``INSERT … ON CONFLICT DO NOTHING`` make the later one see the first
one's row instead of failing or adding a second. On SQLite ``BEGIN IMMEDIATE`` queues them.
"""

from __future__ import annotations

import multiprocessing
import time

from pipeline.config.state import StateConfig
from pipeline.stores.backend import backend_for
from tests.conftest import NOW

PROCESSES = 4
ROUNDS = 5


def _sign_up(config: StateConfig, address: str, start_at: float, results) -> None:
    backend = backend_for(config)
    with backend.subscribers() as store:
        store.find("warm.up@example.se")  # connect before the race, so the inserts really overlap
        time.sleep(max(0.0, start_at - time.time()))
        subscriber, created = store.add(address, now=NOW, status="pending", source="form")
    results.put((subscriber.uid, created))


def test_simultaneous_sign_ups_of_one_address_give_one_subscriber(state_backend) -> None:
    context = multiprocessing.get_context("fork")
    deadline = time.monotonic() + 120
    for round_number in range(ROUNDS):
        address = f"race{round_number}@example.se"
        results = context.Queue()
        start_at = time.time() + 1.0  # every process is connected by then
        workers = [
            context.Process(target=_sign_up, args=(state_backend.config, address, start_at, results))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
            assert worker.exitcode == 0
        assert len({uid for uid, _created in outcomes}) == 1, outcomes
        assert sorted(created for _uid, created in outcomes) == [False] * (PROCESSES - 1) + [True]
        assert time.monotonic() < deadline
    with state_backend.subscribers() as store:
        assert [s.email for s in store.list()] == [f"race{n}@example.se" for n in range(ROUNDS)]
        for subscriber in store.list():
            assert [r.event for r in store.consent_records(subscriber.uid)] == ["subscribed"]
