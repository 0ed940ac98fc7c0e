"""``python -m pipeline run JOB``: one job now, through the scheduler's own code path and history."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.stores.sqlite.history import SQLiteRunHistory
from tests.schedule_helpers import Project, make_project

STOCKHOLM = "Europe/Stockholm"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.delenv("GOAL17_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # job options are relative to the working directory, as in service
    return make_project(tmp_path)


def run(project: Project, job: str) -> int:
    return main(["run", job, "--config", str(project.root / "schedule.toml")])


def test_run_builds_and_records_the_run(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.schedule(
        """
        [jobs.build]
        kind = "build"
        interval = "15m"
        options = { content = "content", out = "site" }
        """
    )
    assert run(project, "build") == 0
    out = capsys.readouterr().out
    assert "job build (build): started [manual]" in out
    assert "job build: success in " in out and "(start 20" in out and ", end 20" in out
    assert "built 1 updates into site/" in out
    assert (project.root / "site" / "index.html").exists()

    (row,) = SQLiteRunHistory(project.state).runs()
    assert (row.job, row.kind, row.trigger, row.outcome) == ("build", "build", "manual", "success")
    assert row.scheduled_for is None
    assert row.started_at is not None and row.finished_at is not None and row.finished_at >= row.started_at
    assert row.duration_s is not None and row.duration_s >= 0
    assert row.summary.startswith("built 1 updates")


def test_a_failing_job_exits_1_with_traceback_and_leaves_outputs(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.broken_content("broken")
    project.schedule(
        """
        [jobs.good]
        kind = "build"
        interval = "15m"
        options = { out = "site" }
        [jobs.bad]
        kind = "build"
        interval = "15m"
        options = { content = "broken", out = "site" }
        """
    )
    assert run(project, "good") == 0
    before = (project.root / "site" / "index.html").read_bytes()
    capsys.readouterr()

    assert run(project, "bad") == 1
    captured = capsys.readouterr()
    assert "error: job bad failed: ContentError: 1 problem(s) in 1 file(s)" in captured.err
    assert "job bad: failed in " in captured.out
    assert "broken.md:2: error:" in captured.out  # the content problem itself, not only its count
    assert "Traceback (most recent call last)" in captured.out
    assert (project.root / "site" / "index.html").read_bytes() == before

    failed = SQLiteRunHistory(project.state).runs("bad")[0]
    assert failed.outcome == "failed"
    assert "broken.md:2" in failed.error and "Traceback" in failed.error


def test_pipeline_runs_steps_in_order_and_stops_at_the_first_failure(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.broken_content("broken")
    project.schedule(
        """
        [jobs.chain]
        kind = "pipeline"
        cron = { day_of_week = "mon", hour = 8 }
        steps = [
            { kind = "build", options = { out = "first" } },
            { kind = "build", options = { content = "broken", out = "second" } },
            { kind = "build", options = { out = "third" } },
        ]
        """
    )
    assert run(project, "chain") == 1
    err = capsys.readouterr().err
    assert "step 2 of 3 (build) failed after build: built 1 updates into first/" in err
    assert (project.root / "first" / "index.html").exists()
    assert not (project.root / "second").exists()
    assert not (project.root / "third").exists()  # nothing after a failed step
    assert SQLiteRunHistory(project.state).runs("chain")[0].outcome == "failed"


def test_pipeline_step_runs_only_if_its_setting_is_set(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.schedule(
        """
        [jobs.build]
        kind = "pipeline"
        interval = "15m"
        steps = [
            { kind = "build", options = { out = "site" } },
            { kind = "ping", only_if_set = "websub_hub" },
        ]
        """
    )
    assert run(project, "build") == 0
    summary = SQLiteRunHistory(project.state).runs("build")[0].summary
    assert summary.startswith("build: built 1 updates into site/")
    assert summary.endswith("ping: skipped (websub_hub not set)")


def test_a_disabled_job_runs_when_asked(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.schedule(
        """
        [jobs.paused]
        kind = "build"
        interval = "15m"
        enabled = false
        options = { out = "site" }
        """
    )
    assert run(project, "paused") == 0
    assert "disabled in" in capsys.readouterr().out
    assert (project.root / "site" / "index.html").exists()


def test_unknown_job_message(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.schedule('[jobs.build]\nkind = "build"\ninterval = "15m"\n')
    assert run(project, "nope") == 1
    err = capsys.readouterr().err
    assert "error: no job 'nope' in" in err and "(jobs: build)" in err
    assert not project.state.exists()


def test_scheduled_publishing_appears_on_the_first_build_after_its_time(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The build job reads the clock when it runs: a future-dated update waits, then appears."""
    from zoneinfo import ZoneInfo

    project.schedule('[jobs.build]\nkind = "build"\ninterval = "15m"\noptions = { out = "site" }\n')
    site = project.root / "site"
    # The first build must finish before the update's time. Two seconds are plenty on an idle
    # machine, not on a busy one: if the build ran past it, try again with more time (bounded).
    for lead in (2, 5, 15, 40):
        due = (datetime.now(ZoneInfo(STOCKHOLM)) + timedelta(seconds=lead)).replace(microsecond=0)
        project.update(
            "content",
            "scheduled-item",
            title="Scheduled item about partnerships",
            date=due.replace(tzinfo=None).isoformat(),
        )
        assert run(project, "build") == 0
        if datetime.now(due.tzinfo) < due:
            break
    else:
        pytest.fail("the machine is too busy: every first build ran past its update's time")
    summary = SQLiteRunHistory(project.state).runs("build")[0].summary
    assert "1 scheduled, next scheduled-item.md at" in summary
    assert not any("Scheduled item about partnerships" in text for text in _listing_texts(site))

    time.sleep(max(0.0, (due - datetime.now(due.tzinfo)).total_seconds()) + 0.1)
    assert run(project, "build") == 0
    texts = _listing_texts(site)
    missing = [name for name, text in texts.items() if "Scheduled item about partnerships" not in text]
    assert texts and not missing
    pages = [p for p in (site / "updates").glob("*/index.html") if "Scheduled item" in p.read_text("utf-8")]
    assert len(pages) == 1


def _listing_texts(site: Path) -> dict[str, str]:
    """Every output that lists the latest updates (feeds and snippets when their builders exist)."""
    names = [
        "index.html",
        "feeds/rss.xml",
        "feeds/atom.xml",
        "feeds/feed.json",
        "snippets/latest.json",
    ]
    return {name: (site / name).read_text("utf-8") for name in names if (site / name).exists()}
