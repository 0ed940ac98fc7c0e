"""Scheduler replicas on one PostgreSQL database: one active, a standby that takes over when it dies.

Real ``python -m pipeline schedule`` processes, a real PostgreSQL server, real SIGKILLs. The run
history in the shared database is the truth: after the takeover no (job, fire time) ran twice, and
the fire time that passed while nobody was active ran once, by the new active scheduler.
"""

from __future__ import annotations

import signal
import socket
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.config.state import StateConfig
from pipeline.stores import migrations
from pipeline.stores.backend import backend_for
from tests.schedule_helpers import SITE_TOML, Project, Scheduler, make_project

FAILOVER = 6  # seconds: [scheduler] failover in the test schedule


@pytest.fixture
def project(tmp_path: Path, postgres_url: str) -> Project:
    project = make_project(tmp_path / "project")
    (project.root / "site.toml").write_text(
        SITE_TOML + f'\n[state]\ndatabase_url = "{postgres_url}"\n', encoding="utf-8"
    )
    migrations.migrate(backend_for(StateConfig("postgresql", project.state, postgres_url, "file")))
    project.schedule(
        f"""
        [scheduler]
        failover = "{FAILOVER}s"

        [jobs.tick]
        kind = "build"
        interval = "3s"
        misfire_grace = "1m"
        options = {{ out = "site" }}
        """
    )
    return project


@pytest.fixture
def schedulers():
    started: list[Scheduler] = []

    def start(project: Project) -> Scheduler:
        scheduler = Scheduler.start(project)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.kill()


def history(url: str, tmp_path: Path):
    return backend_for(StateConfig("postgresql", tmp_path, url, "file")).run_history()


def test_the_standby_takes_over_from_a_killed_active_scheduler_and_runs_each_fire_once(
    project: Project, schedulers, postgres_url: str, tmp_path: Path
) -> None:
    first = schedulers(project)
    first.wait_for("active: this scheduler holds the advisory lock", timeout=60)
    second = schedulers(project)
    second.wait_for("standby: another scheduler is active (goal17-scheduler", timeout=60)
    first.wait_for("job tick: success", timeout=60, count=2)
    assert not any("job tick" in line for line in second.lines), second.output

    first.process.send_signal(signal.SIGKILL)  # between two runs: the interval is 3 s, a build < 1 s
    killed_at = time.monotonic()
    assert first.wait() == -signal.SIGKILL
    second.wait_for("active: this scheduler holds the advisory lock", timeout=FAILOVER + 20)
    took_over = time.monotonic() - killed_at
    second.wait_for("job tick: success", timeout=60, count=2)
    assert second.stop() == 0

    runs = list(reversed(history(postgres_url, tmp_path).runs("tick")))
    done = [run for run in runs if run.outcome in ("success", "failed", "deferred")]
    fire_times = Counter(run.scheduled_for for run in done)
    assert fire_times and max(fire_times.values()) == 1, runs  # no (job, fire time) twice
    pids = [run.pid for run in done]
    assert pids[:2] == [first.process.pid] * 2 and set(pids[2:]) == {second.process.pid}, runs
    # No fire time lost, none twice: one run every 3 s across the takeover. The first fire after
    # the kill ran on the new active scheduler, on time, or at once as a catch-up when it passed
    # while nobody was active (within the 1m grace).
    steps = {
        later.scheduled_for - earlier.scheduled_for for earlier, later in zip(done, done[1:], strict=False)
    }
    assert steps == {timedelta(seconds=3)}, runs
    assert done[2].trigger in ("schedule", "catch-up"), runs
    assert [run.outcome for run in runs if run.outcome != "success"] == [], runs
    assert took_over < FAILOVER + 10, f"standby took over after {took_over:.1f} s"


def test_a_standby_stops_cleanly_on_sigterm_and_the_active_one_keeps_the_lock(
    project: Project, schedulers
) -> None:
    first = schedulers(project)
    first.wait_for("active: this scheduler holds the advisory lock", timeout=60)
    second = schedulers(project)
    second.wait_for("standby: another scheduler is active", timeout=60)
    assert second.stop() == 0
    assert "SIGTERM received while standby: stopping" in second.output
    first.wait_for("job tick: success", timeout=60)
    assert first.stop() == 0


def test_a_fire_time_missed_while_no_scheduler_was_active_runs_once_per_the_catch_up_rule(
    project: Project, schedulers, postgres_url: str, tmp_path: Path
) -> None:
    first = schedulers(project)
    first.wait_for("job tick: success", timeout=60)
    first.process.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    time.sleep(7)  # two fire times pass with nobody active
    second = schedulers(project)
    second.wait_for("job tick (build): started [catch-up]", timeout=60)
    second.wait_for("job tick: success", timeout=60)
    assert second.stop() == 0
    runs = list(reversed(history(postgres_url, tmp_path).runs("tick")))
    caught_up = [run for run in runs if run.trigger == "catch-up" and run.outcome == "success"]
    missed = [run for run in runs if run.outcome == "missed"]
    assert len(caught_up) == 1 and len(missed) == 1, runs  # the latest runs, the older one is skipped
    assert missed[0].scheduled_for < caught_up[0].scheduled_for, runs
    assert max(Counter(run.scheduled_for for run in runs).values()) == 1, runs


def test_an_active_scheduler_that_loses_its_database_session_stops_at_once(
    project: Project, schedulers, postgres_url: str
) -> None:
    import psycopg

    first = schedulers(project)
    first.wait_for("active: this scheduler holds the advisory lock", timeout=60)
    second = schedulers(project)
    second.wait_for("standby: another scheduler is active", timeout=60)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        (ended,) = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            (f"goal17-scheduler {socket.gethostname()} pid {first.process.pid}",),
        ).fetchone()
    assert ended == 1
    assert first.wait(timeout=FAILOVER + 20) == 75  # EX_TEMPFAIL: its supervisor restarts it
    assert "lost the scheduler lock: the connection to the database was lost" in first.output
    second.wait_for("active: this scheduler holds the advisory lock", timeout=FAILOVER + 20)
    assert second.stop() == 0
