"""The run history store, once for each backend: the same rows, the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

T0 = datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


@pytest.fixture
def history(state_backend):
    """A migrated backend's run history (PostgreSQL: a fresh database of the test server)."""
    return state_backend.run_history()


def test_a_run_is_recorded_running_then_finished(history) -> None:
    run_id = history.start("build", "build", "schedule")
    (row,) = history.runs()
    assert (row.id, row.outcome, row.scheduled_for, row.finished_at) == (run_id, "running", None, None)
    history.finish(run_id, "success", T0, T0 + timedelta(seconds=1.5), summary="12 pages")
    history.set_scheduled_for(run_id, T0)
    (row,) = history.runs("build")
    assert (row.outcome, row.summary, row.duration_s, row.scheduled_for) == ("success", "12 pages", 1.5, T0)
    assert row.started_at == T0 and row.finished_at == T0 + timedelta(seconds=1.5)
    assert history.runs("other") == []


def test_last_fire_never_moves_backwards_but_follows_an_edited_trigger(history) -> None:
    assert history.last_fire("weekly") is None
    history.set_last_fire("weekly", "every 1h", T0)
    history.set_last_fire("weekly", "every 1h", T0 - timedelta(hours=1))
    assert history.last_fire("weekly") == ("every 1h", T0)
    history.set_last_fire("weekly", "every 2h", T0 - timedelta(hours=3))  # the schedule was edited
    assert history.last_fire("weekly") == ("every 2h", T0 - timedelta(hours=3))
    history.clamp_last_fire("weekly", T0 - timedelta(hours=5))
    assert history.last_fire("weekly") == ("every 2h", T0 - timedelta(hours=5))
    history.clamp_last_fire("weekly", T0)  # not in the future: unchanged
    assert history.last_fire("weekly") == ("every 2h", T0 - timedelta(hours=5))


def test_skips_warnings_and_interruptions_are_rows_of_their_own(history) -> None:
    history.record_skip("send", "send", "missed", T0, "too late", trigger="catch-up")
    history.record_warning("send", "send", T0, "clock set back")
    run_id = history.start("send", "send", "schedule", T0)
    history.mark_interrupted(run_id, "stopped")
    history.mark_interrupted(run_id, "again")  # only a running row changes
    newest_first = history.runs("send")
    assert [(r.outcome, r.trigger, r.summary) for r in newest_first] == [
        ("interrupted", "schedule", "stopped"),
        ("warning", "schedule", "clock set back"),
        ("missed", "catch-up", "too late"),
    ]
    assert len(history.runs(limit=2)) == 2


def test_runs_left_running_by_a_scheduler_that_died_are_closed_as_interrupted(history, tmp_path) -> None:
    """A real process starts two runs and exits without finishing them (as a SIGKILL would)."""
    url = getattr(history, "url", "")
    child = f"""
from pipeline.config.state import StateConfig
from pipeline.stores.backend import backend_for
config = StateConfig({"postgresql" if url else "sqlite"!r}, {str(tmp_path / "state")!r}, {url!r}, "file")
history = backend_for(config).run_history()
history.start("build", "build", "schedule")
history.start("by-hand", "build", "manual")
"""
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    mine = history.start("mine", "build", "manual")
    closed = history.close_abandoned()
    outcomes = {row.job: row.outcome for row in history.runs()}
    assert outcomes["build"] == "interrupted"
    assert outcomes["mine"] == "running" and history.runs("mine")[0].id == mine
    if url:  # PostgreSQL: the caller is the active scheduler; a manual run may be on another machine
        assert (closed, outcomes["by-hand"]) == (1, "running")
    else:  # SQLite: one machine, so a dead process ID is proof
        assert (closed, outcomes["by-hand"]) == (2, "interrupted")
    assert history.runs("build")[0].summary == "the process running it ended before it finished"


def test_finishing_a_run_can_record_its_fire_time_in_the_same_transaction(history) -> None:
    run_id = history.start("tick", "build", "schedule", T0)
    assert history.last_fire("tick") is None  # a run that has not finished has not dealt with it
    history.finish(run_id, "success", T0, T0 + timedelta(seconds=1), summary="ok", last_fire=("every 3s", T0))
    assert history.last_fire("tick") == ("every 3s", T0)
    older = history.start("tick", "build", "schedule", T0 - timedelta(seconds=3))
    history.finish(older, "failed", T0, T0, last_fire=("every 3s", T0 - timedelta(seconds=3)))
    assert history.last_fire("tick") == ("every 3s", T0)
