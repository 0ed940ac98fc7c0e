"""The scheduler service for real: ``python -m pipeline schedule`` in a subprocess, real builds,
real signals, a real state database. Schedules use one-second intervals to stay quick."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.stores import statedb
from pipeline.stores.sqlite.history import SQLiteRunHistory
from tests.schedule_helpers import Project, Scheduler, clean_env, make_project, pipeline_cmd


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "project")


@pytest.fixture
def schedulers():
    started: list[Scheduler] = []

    def start(project: Project, *args: str) -> Scheduler:
        scheduler = Scheduler.start(project, *args)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.kill()


def rows(project: Project, job: str) -> list:
    return list(reversed(SQLiteRunHistory(project.state).runs(job)))


@dataclass
class RunsAndSkips:
    runs: list  # fire times that ran, oldest first
    skips: list  # fire times skipped because the previous run was still going


def runs_and_skips(project: Project, job: str) -> RunsAndSkips:
    history = rows(project, job)
    return RunsAndSkips(
        runs=[row for row in history if row.outcome != "skipped"],
        skips=[row for row in history if row.outcome == "skipped"],
    )


def test_scheduler_builds_keeps_going_after_failures_and_exits_0_on_sigterm(
    project: Project, schedulers
) -> None:
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    project.update(
        "content", "later", title="Published by the scheduler", date=due.isoformat().replace("+00:00", "Z")
    )
    project.broken_content("broken")
    project.schedule(
        """
        [jobs.good]
        kind = "build"
        interval = "1s"
        options = { content = "content", out = "site" }

        [jobs.bad]
        kind = "build"
        interval = "1s"
        options = { content = "broken", out = "site-bad" }
        """
    )
    scheduler = schedulers(project)
    scheduler.wait_for("scheduler started")
    scheduler.wait_for("job good: success", count=1)
    scheduler.wait_for("job bad: failed", count=2)
    scheduler.wait_for("job good: success", count=3)  # still building after the failures
    index = project.root / "site" / "index.html"
    assert "Published by the scheduler" not in index.read_text("utf-8") or datetime.now(UTC) >= due

    # Scheduled publishing: the future-dated update appears on the first build after its time.
    deadline = time.monotonic() + 20
    while "Published by the scheduler" not in index.read_text("utf-8"):
        assert time.monotonic() < deadline, scheduler.output
        time.sleep(0.2)
    assert datetime.now(UTC) >= due

    assert scheduler.stop(signal.SIGTERM) == 0
    assert scheduler.lines[-1].endswith("scheduler stopped")
    assert "Traceback (most recent call last)" in scheduler.output
    assert "broken.md:2: error:" in scheduler.output
    assert not (project.root / "site-bad").exists()

    # A busy machine makes a build outlast its one-second interval: the fire time that comes
    # while it runs is skipped and recorded as such (a job never overlaps itself). That is the
    # promise working, not a failure; every run that did happen must have the right outcome.
    good, bad = runs_and_skips(project, "good"), runs_and_skips(project, "bad")
    assert len(good.runs) >= 3 and {row.outcome for row in good.runs} == {"success"}
    assert len(bad.runs) >= 2 and {row.outcome for row in bad.runs} == {"failed"}
    for job in (good, bad):
        for skip in job.skips:
            assert "the previous run was still going" in skip.summary, skip
            assert skip.scheduled_for > job.runs[0].scheduled_for, skip  # only while one ran
    good, bad = good.runs, bad.runs
    for row in good + bad:
        assert row.trigger == "schedule" and row.scheduled_for is not None
        assert row.started_at >= row.scheduled_for - timedelta(seconds=1)
        assert row.duration_s is not None
    # Runs of one job never overlapped.
    for earlier, later in zip(good, good[1:], strict=False):
        assert later.started_at >= earlier.finished_at


def test_a_restart_runs_the_fire_time_missed_while_stopped(project: Project, schedulers) -> None:
    project.schedule('[jobs.good]\nkind = "build"\ninterval = "1s"\noptions = { out = "site" }\n')
    first = schedulers(project)
    first.wait_for("job good: success")
    assert first.stop() == 0
    time.sleep(1.5)  # at least one fire time passes with no scheduler

    second = schedulers(project)
    second.wait_for("was missed while the scheduler was stopped; within the grace time 10m, it runs now")
    second.wait_for("job good (build): started [catch-up]")
    second.wait_for("job good: success")
    assert second.stop() == 0
    caught_up = [
        row for row in rows(project, "good") if row.trigger == "catch-up" and row.outcome == "success"
    ]
    assert len(caught_up) == 1


def test_a_second_scheduler_refuses_and_a_killed_one_releases_the_lock(project: Project, schedulers) -> None:
    project.schedule('[jobs.hourly]\nkind = "build"\ninterval = "1h"\n')
    first = schedulers(project)
    first.wait_for("scheduler started")

    refused = subprocess.run(
        pipeline_cmd("schedule"),
        cwd=project.root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "another scheduler is already running on state folder" in refused.stderr
    assert f"(PID {first.process.pid} holds" in refused.stderr

    first.process.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL

    third = schedulers(project)
    third.wait_for("scheduler started")
    assert third.stop(signal.SIGINT) == 0  # Ctrl-C stops as cleanly as SIGTERM


def test_missed_runs_within_grace_run_once_older_ones_are_skipped_and_logged(
    project: Project, schedulers
) -> None:
    project.schedule(
        """
        [jobs.recent]
        kind = "build"
        interval = "1h"
        misfire_grace = "10m"
        options = { out = "recent" }

        [jobs.many]
        kind = "build"
        interval = "1h"
        misfire_grace = "10m"
        options = { out = "many" }

        [jobs.stale]
        kind = "build"
        interval = "1h"
        misfire_grace = "10m"
        options = { out = "stale" }
        """
    )
    # As if a scheduler had run these jobs, then stopped: the last fire times it dealt with.
    now = datetime.now(UTC)
    history = SQLiteRunHistory(project.state)
    history.set_last_fire("recent", "every 1h", now - timedelta(hours=1, minutes=2))  # due 2 min ago
    history.set_last_fire("many", "every 1h", now - timedelta(hours=5, minutes=2))  # 5 missed, last 2 min ago
    history.set_last_fire("stale", "every 1h", now - timedelta(hours=1, minutes=20))  # due 20 min ago

    scheduler = schedulers(project)
    scheduler.wait_for("job recent: success")
    scheduler.wait_for("job many: success")
    skipped = scheduler.wait_for("job stale: 1 run(s) missed while the scheduler was stopped")
    assert "older than the grace time 10m: skipped" in skipped
    many_skipped = scheduler.wait_for("job many: 4 run(s) missed")
    assert "superseded by a later run within the grace time 10m: skipped" in many_skipped
    time.sleep(1.0)  # a second run would start at once if the backlog were not coalesced
    assert scheduler.stop() == 0

    assert [(r.trigger, r.outcome) for r in rows(project, "recent")] == [("catch-up", "success")]
    assert [(r.trigger, r.outcome) for r in rows(project, "many")] == [
        ("catch-up", "missed"),
        ("catch-up", "success"),
    ]
    assert [(r.trigger, r.outcome) for r in rows(project, "stale")] == [("catch-up", "missed")]
    assert (project.root / "recent" / "index.html").exists()
    assert not (project.root / "stale").exists()

    # The skip is remembered: a restart neither runs nor reports those fire times again.
    again = schedulers(project)
    again.wait_for("scheduler started")
    time.sleep(0.5)
    assert again.stop() == 0
    assert "run(s) missed" not in again.output and "was missed" not in again.output
    assert len(rows(project, "stale")) == 1 and len(rows(project, "recent")) == 1


def slow_project(project: Project, steps: int, wait: str) -> None:
    """A real job that takes a while: a pipeline of several builds of a few hundred updates.

    Each step builds into a folder of its own: into one folder, every build after the first
    would find nothing changed and finish at once.
    """
    project.many_updates("big", 200)
    step_list = [
        f'{{ kind = "build", options = {{ content = "big", out = "big-site-{n}" }} }}' for n in range(steps)
    ]
    project.schedule(
        f"""
        [scheduler]
        shutdown_wait = "{wait}"

        [jobs.slow]
        kind = "pipeline"
        interval = "1s"
        steps = [{", ".join(step_list)}]
        """
    )


def test_sigterm_lets_the_running_job_finish_then_exits_0(project: Project, schedulers) -> None:
    slow_project(project, steps=6, wait="60s")
    scheduler = schedulers(project)
    scheduler.wait_for("job slow (pipeline): started")
    assert scheduler.stop(signal.SIGTERM, timeout=60) == 0
    output = scheduler.output
    assert "waiting up to 1m for running job(s) to finish: slow" in output
    assert (
        output.index("waiting up to") < output.index("job slow: success") < output.index("scheduler stopped")
    )
    assert output.count("job slow (pipeline): started") == 1  # nothing new after the signal
    # Fire times that came while it ran (more of them on a busy machine) are skipped, not run.
    assert [row.outcome for row in runs_and_skips(project, "slow").runs] == ["success"]


def test_shutdown_wait_is_bounded(project: Project, schedulers) -> None:
    slow_project(project, steps=60, wait="1s")
    scheduler = schedulers(project)
    scheduler.wait_for("job slow (pipeline): started")
    # Bounded: the stop comes within the helper's 30 s although the 60 builds take far longer,
    # and the job is recorded as interrupted, not finished (no wall-clock assert: a busy
    # machine may take seconds just to start the kill).
    assert scheduler.stop(signal.SIGTERM, timeout=30) == 0
    assert "job slow: still running; interrupted by the stop" in scheduler.output
    assert "job slow: success" not in scheduler.output
    (row,) = runs_and_skips(project, "slow").runs
    assert row.outcome == "interrupted"
    assert "waited 1 s" in row.summary
    # The fire time was not dealt with, so a restart (within grace) runs it again.
    conn = statedb.connect(project.state)
    assert conn.execute("SELECT COUNT(*) FROM schedule_jobs WHERE job = 'slow'").fetchone()[0] == 0
    conn.close()
    # The interrupted build's worker processes (its render and publish pools) went with it,
    # instead of waiting forever for a parent that is gone.
    deadline = time.monotonic() + 30
    while (left := processes_in(project.root)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, left


def processes_in(folder: Path) -> list[str]:
    """Processes whose working directory is ``folder`` (what a scheduler started there left behind)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) == folder.resolve():
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{proc.name}: {command}")
        except OSError:
            continue
    return found
