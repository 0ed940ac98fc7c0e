"""Several real ``send`` processes on one issue (PostgreSQL), killed at random: still exactly once.

Four ``python -m pipeline send`` processes work on one issue of 2,000 readers against the
counting SMTP server of tests/smtp_faults.py (127.0.0.1); meanwhile the test SIGKILLs a random
live sender a few times and starts a new one in its place. Then one ``send --retries-only`` run
finishes what is left (rows whose lease ran out, retries). For every reader: at least one copy —
never none — and at most one extra copy per kill over all readers; the send log says ``sent``
for everyone. The same with the server answering some readers and connections with 4xx.

Also: ``[smtp] rate`` holds for all senders together (four senders at 20/s send 20/s, not 80), and
on SQLite a second sender is refused with today's message while the first one works.
Every wait is bounded (process timeouts, a deadline for the kill loop).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.site import load_settings
from pipeline.delivery.send_run import send_log
from pipeline.publishing.issue_build import build_issue
from pipeline.stores import migrations
from pipeline.stores.backend import backend_for, open_backend
from tests.conftest import NOW, REPO
from tests.newsletter_helpers import smtp_settings
from tests.smtp_faults import Fault, FaultServer

SECRET = "many-senders-secret-0123456789-abcdefghij"
ENV = {**os.environ, "GOAL17_SECRET": SECRET}
SENDERS = 4
READERS = 2000
KILLS = 3
AT = NOW + timedelta(hours=1)


class TimedServer(FaultServer):
    """The fault server, also noting when it kept each message (for the rate)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept_at: list[float] = []

    def _keep(self, envelope) -> None:
        super()._keep(envelope)
        with self.lock:
            self.kept_at.append(time.monotonic())


def site(tmp_path: Path, content_dir: Path, write_update, port: int, readers: int, state: str, rate: int = 0):
    """A site sending by SMTP to ``port``, ``readers`` active readers and issue 1 built."""
    config_file = smtp_settings(tmp_path, port, '[newsletter]\ntransport = "smtp"\n' + state)
    text = config_file.read_text(encoding="utf-8").replace("timeout = 10", "timeout = 5")
    config_file.write_text(text.replace("rate = 0", f"rate = {rate}"), encoding="utf-8")
    settings = load_settings(config_file)
    if settings.state.backend == "postgresql":
        migrations.migrate(backend_for(settings.state))
    with open_backend(settings).subscribers() as store:
        lines = "\n".join(f"r{n:04d}@example.se" for n in range(readers))
        store.import_csv(f"email\n{lines}\n", now=NOW)
    write_update("ett", date="2026-11-20T09:00", targets=["17.9"])
    build_issue(content_dir, tmp_path / "out", settings, NOW)
    return config_file, settings


def pg_site(tmp_path, content_dir, write_update, port, readers, url, rate=0):
    state = f'[state]\ndatabase_url = "{url}"\nsend_lease = 2\n'
    return site(tmp_path, content_dir, write_update, port, readers, state, rate)


def start_sender(config_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "send", "--config", str(config_file), "--transport", "smtp"]
        + ["--now", AT.isoformat(), "-q"],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_with_kills(
    config_file: Path, seed: int, kills: int, deadline_s: float = 100
) -> tuple[int, list[str]]:
    """SENDERS senders; ``kills`` times a random live one is SIGKILLed and replaced. (kills done, stderr)."""
    rng = random.Random(seed)
    senders = [start_sender(config_file) for _ in range(SENDERS)]
    done, errors = 0, []
    deadline = time.monotonic() + deadline_s
    try:
        while done < kills and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.5, 2.0))
            alive = [p for p in senders if p.poll() is None]
            if not alive:
                break
            victim = rng.choice(alive)
            victim.kill()
            victim.wait(timeout=30)
            done += 1
            senders.append(start_sender(config_file))
        for process in senders:
            out, err = process.communicate(timeout=max(deadline - time.monotonic(), 5))
            if process.returncode != -9:
                assert "Traceback" not in err, err
                assert process.returncode in (0, 3), f"exit {process.returncode}: {out}{err}"
            errors.append(err)
    finally:
        for process in senders:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    return done, errors


def finish(config_file: Path) -> None:
    """``send --retries-only`` until nobody is owed anything (bounded: four runs)."""
    for hours in range(2, 6):
        at = NOW + timedelta(hours=hours)
        if main(["send", "--config", str(config_file), "--retries-only", "--now", at.isoformat(), "-q"]) == 0:
            return
    pytest.fail("the retries runs did not complete the issue")


def check_exactly_once(server: FaultServer, settings, readers: int, kills: int) -> None:
    copies = server.copies()
    got = {f"r{n:04d}@example.se": copies.get((1, f"r{n:04d}@example.se"), 0) for n in range(readers)}
    never = [reader for reader, n in got.items() if n == 0]
    assert not never, f"{len(never)} readers got nothing, e.g. {never[:5]}"
    extra = sum(n - 1 for n in got.values())
    assert extra <= kills, f"{extra} extra copies for {kills} kills: {Counter(got.values())}"
    statuses = Counter(row["status"] for row in send_log(settings, 1))
    assert statuses == {"sent": readers}, statuses


@pytest.mark.parametrize("seed", [1301, 1302])
def test_four_senders_killed_at_random_deliver_every_reader_exactly_once(
    tmp_path: Path, content_dir: Path, write_update, postgres_url: str, monkeypatch, seed: int
) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    with FaultServer() as server:
        config_file, settings = pg_site(
            tmp_path, content_dir, write_update, server.port, READERS, postgres_url
        )
        kills, _ = run_with_kills(config_file, seed, KILLS)
        finish(config_file)
        server.settle()
    check_exactly_once(server, settings, READERS, kills)


def test_four_senders_with_temporary_failures_and_kills_still_deliver_exactly_once(
    tmp_path: Path, content_dir: Path, write_update, postgres_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    rng = random.Random(1717)
    readers = [f"r{n:04d}@example.se" for n in range(READERS)]
    with FaultServer() as server:
        config_file, settings = pg_site(
            tmp_path, content_dir, write_update, server.port, READERS, postgres_url
        )
        faults = [Fault("rcpt", reply="451 4.3.0 try later", reader=r) for r in rng.sample(readers, 40)]
        faults += [Fault("eod", reply="452 4.2.2 over quota", reader=r) for r in rng.sample(readers, 40)]
        faults += [
            Fault("greeting", reply="421 4.3.2 busy", after=2),
            Fault("mail", reply="451 4.3.0 later", after=30),
        ]
        server.script(*faults)
        kills, _ = run_with_kills(config_file, 1718, 2)
        deferred = Counter(row["status"] for row in send_log(settings, 1))["temporary"]
        assert deferred >= 40, "the 4xx replies were recorded as temporary failures, to retry"
        server.clear()
        finish(config_file)
        server.settle()
    check_exactly_once(server, settings, READERS, kills)


def test_the_rate_holds_for_all_senders_together(
    tmp_path: Path, content_dir: Path, write_update, postgres_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    rate, readers = 20, 80
    with TimedServer() as server:
        config_file, settings = pg_site(
            tmp_path, content_dir, write_update, server.port, readers, postgres_url, rate=rate
        )
        kills, _ = run_with_kills(config_file, 0, 0)
        server.settle()
    assert kills == 0
    check_exactly_once(server, settings, readers, 0)
    stamps = sorted(server.kept_at)
    span = stamps[-1] - stamps[0]
    # one shared limit: 79 gaps of 1/20 s; four separate ones would take about a quarter of that
    assert span >= (readers - 1) / rate * 0.9, f"{readers} messages in {span:.2f} s at {rate}/s"
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= rate + 2, f"{busiest} messages within one second at {rate}/s"


def test_on_sqlite_a_second_sender_is_refused_while_the_first_works(
    tmp_path: Path, content_dir: Path, write_update, monkeypatch
) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)
    with FaultServer() as server:
        config_file, settings = site(tmp_path, content_dir, write_update, server.port, 5, "")
        server.script(Fault("eod", action="slow", delay=3))  # the first sender is busy for 3 s
        first = start_sender(config_file)
        seen = threading.Event()
        deadline = time.monotonic() + 30
        while not seen.is_set() and time.monotonic() < deadline:
            if sum(server.rcpt_attempts.values()):
                seen.set()
            time.sleep(0.05)
        assert seen.is_set(), "the first sender never reached the server"
        second = subprocess.run(
            [sys.executable, "-m", "pipeline", "send", "--config", str(config_file), "--transport", "smtp"]
            + ["--now", AT.isoformat()],
            cwd=REPO,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        out, err = first.communicate(timeout=60)
        server.settle()
    assert second.returncode == 1, second.stderr
    assert f"another send is already running (pid {first.pid}); nothing sent" in second.stderr
    assert first.returncode == 0, out + err
    assert server.copies() == {(1, f"r{n:04d}@example.se"): 1 for n in range(5)}
