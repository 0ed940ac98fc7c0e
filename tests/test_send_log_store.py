"""The send log store on both backends: the same behaviour from SQLite and PostgreSQL, tested once.

Then what only PostgreSQL has: several senders claiming one issue at once never hold the same row
(``FOR UPDATE SKIP LOCKED``), a dead sender's rows come back when its lease runs out while a live
one's heartbeat keeps them, and the ``[smtp] rate`` pacing is shared by every sender.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.config.site import load_settings
from pipeline.delivery.send_log import NOTHING_FOR_TARGETS
from pipeline.publishing.issue_build import build_issue
from pipeline.stores import migrations
from pipeline.stores.backend import backend_for, open_backend
from pipeline.stores.subscribers import timestamp
from tests.conftest import NOW
from tests.newsletter_helpers import write_settings

READERS = 12
AT = timestamp(NOW)
DUE = timestamp(NOW + timedelta(hours=1))


def make_state(kind: str, request, tmp_path: Path, content_dir: Path, write_update):
    """(settings, backend) with READERS active readers and issue 1 built."""
    extra = '[newsletter]\ntransport = "smtp"\n'
    if kind == "postgresql":
        url = request.getfixturevalue("postgres_url")
        extra += f'[state]\ndatabase_url = "{url}"\nsend_lease = 1\n'
    settings = load_settings(write_settings(tmp_path, extra))
    if kind == "postgresql":
        migrations.migrate(backend_for(settings.state))
    backend = open_backend(settings)
    with backend.subscribers() as store:
        readers = "\n".join(f"reader{n:02d}@example.se" for n in range(READERS))
        store.import_csv(f"email\n{readers}\n", now=NOW)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    build_issue(content_dir, tmp_path / "out", settings, NOW)
    return settings, backend


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request, tmp_path: Path, content_dir: Path, write_update):
    """The shared behaviour, on each backend."""
    return make_state(request.param, request, tmp_path, content_dir, write_update)


@pytest.fixture
def pg_state(request, tmp_path: Path, content_dir: Path, write_update):
    """Several senders at once: PostgreSQL only (SQLite has one sender per state folder)."""
    return make_state("postgresql", request, tmp_path, content_dir, write_update)


def queued(backend, settings) -> None:
    with backend.send_log() as log, backend.issues() as issues, backend.subscribers() as people:
        added, converted = log.queue(issues.get(1), people.active(), settings.newsletter, "smtp", AT)
        assert (added, converted) == (READERS, 0)


def drain(log, limit: int, *, again: bool = False) -> list[int]:
    """Claim everything claimable, ``limit`` at a time (the way a run walks the issue)."""
    got, after = [], 0
    while batch := log.claim(1, "smtp", DUE, False, AT, after=after, limit=limit, again=again):
        got += [claim.subscriber_id for claim in batch]
        after = batch[-1].subscriber_id
    return got


def test_queue_claim_record_and_report(state) -> None:
    settings, backend = state
    queued(backend, settings)
    with backend.send_log() as log, backend.issues() as issues, backend.subscribers() as people:
        assert log.queue(issues.get(1), people.active(), settings.newsletter, "smtp", AT) == (0, 0)
        seen = log.overview(1, "smtp", DUE, False)
        assert seen.due == READERS and seen.already_sent == 0
        assert log.issues_with_work(NOW, "smtp") == [1] and log.pending("smtp") == READERS
        first = log.claim(1, "smtp", DUE, False, AT, limit=3)
        assert [c.before["status"] for c in first] == ["queued"] * 3 and not any(c.resumed for c in first)
        ids = [c.subscriber_id for c in first]
        assert ids == sorted(ids)
        log.mark_sent(1, ids[0], AT)
        attempts, ambiguous = log.attempts(1, ids[1])
        log.mark_temporary(1, ids[1], attempts + 1, ambiguous + 1, DUE, "451 later")
        log.mark_permanent(1, ids[2], "550 no such user")
        rest = log.claim(1, "smtp", DUE, False, AT, after=ids[-1], limit=2)
        log.mark_skipped(1, rest[0].subscriber_id, NOTHING_FOR_TARGETS)
        log.release(1, rest[1:])  # nothing went out: back exactly as it was
        totals = log.totals(1)
        assert totals == {"sent": 1, "temporary": 1, "permanent": 1, "skipped": 1, "queued": READERS - 4}
        rows = {row["email"]: row for row in log.rows(1)}
        assert len(rows) == READERS
        row = next(r for r in rows.values() if r["status"] == "temporary")
        assert (row["attempts"], row["ambiguous"], row["last_error"]) == (1, 1, "451 later")
        assert next(r for r in rows.values() if r["status"] == "permanent")["attempts"] == 1
        later = log.overview(1, "smtp", timestamp(NOW), False)
        assert (later.already_sent, later.permanent_before, later.waiting) == (1, 1, 1)
        assert log.overview(1, "smtp", timestamp(NOW), True).due == READERS - 4  # no skipped rows


def test_the_claim_takes_exactly_the_rows_the_overview_counts_due(state) -> None:
    settings, backend = state
    queued(backend, settings)
    with backend.send_log() as log:
        due = log.overview(1, "smtp", DUE, False).due
        got = drain(log, 5)
        assert len(got) == len(set(got)) == due == READERS


def test_a_claimed_row_whose_sender_is_gone_is_resumed_with_its_message_id(state) -> None:
    settings, backend = state
    queued(backend, settings)
    with backend.send_log() as log:
        claim = log.claim(1, "smtp", DUE, False, AT, limit=1)[0]
        msgid = claim.before["message_id"]
    time.sleep(1.2)  # PostgreSQL: the lease (send_lease = 1) runs out; SQLite has no leases
    with backend.send_log() as log:
        again = log.claim(1, "smtp", DUE, False, AT, limit=1)[0]
        assert again.subscriber_id == claim.subscriber_id and again.resumed
        assert again.before["message_id"] == msgid


def test_an_unsubscribed_reader_is_skipped_not_claimed(state) -> None:
    settings, backend = state
    queued(backend, settings)
    with backend.subscribers() as people:
        gone = people.find("reader03@example.se")
        people.unsubscribe(gone.uid, now=NOW)
    with backend.send_log() as log:
        assert gone.id not in drain(log, 4)
        assert log.skip_inactive(1, AT) == 1
        assert log.totals(1)["skipped"] == 1


def test_concurrent_senders_never_hold_the_same_row(pg_state) -> None:
    settings, backend = pg_state
    queued(backend, settings)
    got: list[list[int]] = []

    def sender() -> None:
        with backend.send_log() as log:
            mine: list[int] = []
            while batch := log.claim(1, "smtp", DUE, False, AT, limit=2):
                mine += [c.subscriber_id for c in batch]
                for c in batch:
                    log.mark_sent(1, c.subscriber_id, AT)
            got.append(mine)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [sid for mine in got for sid in mine]
    assert len(everything) == len(set(everything)) == READERS
    with backend.send_log() as log:
        assert log.totals(1) == {"sent": READERS}


def test_a_live_senders_heartbeat_keeps_its_rows_and_a_dead_ones_come_back(pg_state) -> None:
    settings, backend = pg_state
    queued(backend, settings)
    with backend.send_log() as alive, backend.send_log() as other:
        with alive.running():
            held = alive.claim(1, "smtp", DUE, False, AT, limit=4)
            time.sleep(2.0)  # twice the lease: the heartbeat renewed it meanwhile
            assert other.held_elsewhere(1) == 4
            rest = drain(other, 50, again=True)
            assert len(rest) == READERS - 4 and not {c.subscriber_id for c in held} & set(rest)
            for sid in rest:
                other.mark_sent(1, sid, AT)
        # the heartbeat stopped (as if the process died): after the lease the rows are claimable
        time.sleep(1.3)
        assert other.held_elsewhere(1) == 0
        with backend.send_log() as third:
            taken = third.claim(1, "smtp", DUE, False, AT, limit=50, again=True)
            assert [c.subscriber_id for c in taken] == [c.subscriber_id for c in held]
            assert all(c.resumed for c in taken)


def test_the_rate_is_shared_by_every_sender(pg_state) -> None:
    settings, backend = pg_state
    rate, each, senders = 40.0, 10, 3
    stamps: list[float] = []

    def sender() -> None:
        with backend.send_log() as log:
            pacer = log.pacer(rate)
            for _ in range(each):
                pacer.wait()
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stamps.sort()
    assert len(stamps) == each * senders
    # 30 slots at 40/s take 29/40 s between them; three separate limits would take 9/40 s
    assert stamps[-1] - stamps[0] >= (each * senders - 1) / rate * 0.9
