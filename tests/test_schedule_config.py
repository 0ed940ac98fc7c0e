"""schedule.toml validation and the ``jobs`` listing (fixed clock, daylight-saving changes)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.cli import main
from pipeline.schedule.config import ScheduleError, load_schedule, parse_duration
from pipeline.schedule.registry import Step
from tests.conftest import REPO
from tests.schedule_helpers import clean_env, make_project, pipeline_cmd

GOOD_JOB = """
[jobs.weekly]
kind = "build"
cron = { day_of_week = "mon", hour = 8 }
"""


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOAL17_CONFIG", raising=False)


def write(tmp_path: Path, text: str) -> Path:
    make_project(tmp_path)
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScheduleError) as caught:
        load_schedule(write(tmp_path, text))
    return caught.value.problems


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('kind = "deploy"\ninterval = "1m"', "[jobs.j] kind: unknown kind 'deploy'"),
        ('interval = "1m"', "[jobs.j] kind: missing"),
        ('kind = "build"\ncron = { hour = 25 }', "[jobs.j] cron.hour: bad value 25"),
        ('kind = "build"\ncron = { minute = "*/0" }', "[jobs.j] cron.minute: bad value '*/0'"),
        ('kind = "build"\ncron = { hours = 8 }', "[jobs.j] cron.hours: unknown cron field"),
        ('kind = "build"\ncron = { day_of_week = 1, hour = 8 }', "[jobs.j] cron.day_of_week: use day names"),
        (
            'kind = "build"\ncron = { day_of_week = "mon-fri", hour = "8" }\nsecond = 0',
            "[jobs.j] second: unknown key",
        ),
        ('kind = "build"\ncron = { month = 2, day = 31 }', "[jobs.j] cron: never fires"),
        (
            'kind = "build"\ninterval = "1m"\ntimezone = "Europe/Stokholm"',
            "[jobs.j] timezone: unknown time zone",
        ),
        ('kind = "build"\ninterval = "1m"\ncolour = "red"', "[jobs.j] colour: unknown key"),
        ('kind = "build"\ninterval = "15 minutes"', "[jobs.j] interval: expected a duration"),
        ('kind = "build"\ninterval = 0', "[jobs.j] interval: must be at least 1 second"),
        ('kind = "build"', "[jobs.j] cron: give exactly one of cron"),
        ('kind = "build"\ninterval = "1m"\ncron = { hour = 8 }', "[jobs.j] cron: give exactly one of cron"),
        (
            'kind = "build"\ninterval = "1m"\nmisfire_grace = "soon"',
            "[jobs.j] misfire_grace: expected a duration",
        ),
        ('kind = "build"\ninterval = "1m"\nenabled = "yes"', "[jobs.j] enabled: expected true or false"),
        (
            'kind = "build"\ninterval = "1m"\noptions = { contnet = "x" }',
            "[jobs.j] options.contnet: unknown option",
        ),
        ('kind = "build"\ninterval = "1m"\noptions = { out = 3 }', "[jobs.j] options.out: expected str"),
        (
            'kind = "build"\ninterval = "1m"\nsteps = [{ kind = "build" }]',
            "[jobs.j] steps: only a job of kind",
        ),
        ('kind = "pipeline"\ninterval = "1m"', "[jobs.j] steps: a pipeline job needs steps"),
        (
            'kind = "pipeline"\ninterval = "1m"\nsteps = [{ kind = "deploy" }]',
            "[jobs.j] steps[1].kind: unknown kind",
        ),
        (
            'kind = "pipeline"\ninterval = "1m"\nsteps = [{ kind = "build" }, { kind = "pipeline" }]',
            "[jobs.j] steps[2].kind: a pipeline step cannot",
        ),
        (
            'kind = "pipeline"\ninterval = "1m"\nsteps = [{ kind = "ping", only_if_set = "hub" }]',
            "[jobs.j] steps[1].only_if_set: not a [site] setting",
        ),
        (
            'kind = "pipeline"\ninterval = "1m"\nsteps = [{ kind = "build", options = { outt = "x" } }]',
            "[jobs.j] steps[1].options.outt: unknown option",
        ),
        # the newsletter's kinds are checked when the schedule is loaded, not at 08:00 on Monday
        (
            'kind = "send"\ninterval = "1m"\noptions = { transprot = "smtp" }',
            "[jobs.j] options.transprot: unknown option for kind 'send'",
        ),
        (
            'kind = "send"\ninterval = "1m"\noptions = { transport = "smpt" }',
            "[jobs.j] options.transport: must be one of outbox, smtp, got 'smpt'",
        ),
        (
            'kind = "send"\ninterval = "1m"\noptions = { rate = "20/s" }',
            "[jobs.j] options.rate: expected int",
        ),
        (
            'kind = "pipeline"\ninterval = "1m"\nsteps = [{ kind = "newsletter", options = { forse = true } }]',
            "[jobs.j] steps[1].options.forse: unknown option for kind 'newsletter'",
        ),
        (
            'kind = "ping"\ninterval = "1m"\noptions = { hubb = "https://hub.example/" }',
            "[jobs.j] options.hubb: unknown option for kind 'ping'",
        ),
    ],
)
def test_invalid_job_names_job_and_key(tmp_path: Path, table: str, expected: str) -> None:
    problems = problems_of(tmp_path, f"[jobs.j]\n{table}\n")
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith(str(tmp_path / "schedule.toml")) for problem in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        '[scheduler]\ncolour = 1\nshutdown_wait = "forever"\n'
        '[jobs.a]\nkind = "deploy"\ninterval = "1m"\n'
        '[jobs.b]\nkind = "build"\ncron = { hour = 99 }\n'
        "[extra]\nx = 1\n",
    )
    text = "\n".join(problems)
    for expected in (
        "[scheduler] colour: unknown key",
        "[scheduler] shutdown_wait: expected a duration",
        "[jobs.a] kind: unknown kind",
        "[jobs.b] cron.hour: bad value 99",
        "[extra]: unknown table",
    ):
        assert expected in text


def test_empty_schedule_and_bad_toml_are_errors(tmp_path: Path) -> None:
    assert "no jobs" in problems_of(tmp_path, "[scheduler]\n")[0]
    assert "invalid TOML" in problems_of(tmp_path, "[jobs.a\n")[0]
    with pytest.raises(ScheduleError, match="schedule file not found"):
        load_schedule(tmp_path / "missing.toml")


def test_valid_schedule_fills_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[scheduler]\nshutdown_wait = "90s"\nmisfire_grace = "2m"\n'
        + GOOD_JOB
        + '[jobs.often]\nkind = "pipeline"\ninterval = "1h30m"\nenabled = false\n'
        'steps = [{ kind = "build", options = { out = "site" } }, { kind = "ping", only_if_set = "websub_hub" }]\n',
    )
    schedule = load_schedule(path)
    weekly, often = schedule.jobs
    assert schedule.shutdown_wait == timedelta(seconds=90)
    assert schedule.settings.state_dir == tmp_path / "state"  # site.toml beside the schedule
    assert weekly.trigger.timezone == "Europe/Stockholm"
    assert weekly.misfire_grace == timedelta(minutes=2)
    assert weekly.trigger.describe() == "cron day_of_week=mon hour=8 (Europe/Stockholm)"
    assert often.trigger.interval == timedelta(minutes=90)
    assert not often.enabled and schedule.enabled_jobs == (weekly,)
    assert often.options["steps"] == [
        Step("build", {"out": "site"}),
        Step("ping", {}, only_if_set="websub_hub"),
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("3h", 10800), ("1d", 86400), ("1h30m", 5400), (45, 45), ("1w", 604800)],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_shipped_schedule_is_valid() -> None:
    schedule = load_schedule(REPO / "schedule.toml")
    jobs = {job.name: job for job in schedule.jobs}
    assert jobs["build"].trigger.interval == timedelta(minutes=15)
    assert [step.kind for step in jobs["build"].options["steps"]] == ["build", "ping"]
    weekly = jobs["weekly"]
    assert weekly.kind == "pipeline"
    assert [step.kind for step in weekly.options["steps"]] == ["newsletter", "send"]
    assert weekly.trigger.cron == {"day_of_week": "mon", "hour": 8, "minute": 0}
    assert weekly.trigger.timezone == "Europe/Stockholm"
    # deferred (4xx) messages are retried within the hour, in runs clear of Monday's 08:00 send
    retries = jobs["retries"]
    assert retries.kind == "send" and retries.options == {"retries_only": True}
    trigger = retries.trigger.make()
    monday = datetime(2026, 11, 30, 7, 59, tzinfo=ZoneInfo("Europe/Stockholm"))
    fires = [monday]
    for _ in range(4):
        fires.append(trigger.get_next_fire_time(None, fires[-1] + timedelta(seconds=1)))
    assert [f"{f:%H:%M}" for f in fires[1:]] == ["08:07", "08:22", "08:37", "08:52"]


def jobs_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["jobs", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Summer time ends on Sunday 25 October 2026: the next Monday 08:00 is in CET (+01:00).
        ("2026-10-23", "2026-10-26 08:00 CET (+01:00)"),
        ("2026-10-25T02:30", "2026-10-26 08:00 CET (+01:00)"),
        # Summer time starts on Sunday 29 March 2026: the next Monday 08:00 is in CEST (+02:00).
        ("2026-03-27T09:00", "2026-03-30 08:00 CEST (+02:00)"),
        # On a Monday after 08:00 the next run is a week later.
        ("2026-03-30T08:00:01", "2026-04-06 08:00 CEST (+02:00)"),
    ],
)
def test_jobs_shows_next_monday_across_daylight_saving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], now: str, expected: str
) -> None:
    site = make_project(tmp_path).root / "site.toml"
    out = jobs_output(capsys, "--config", str(REPO / "schedule.toml"), "--site", str(site), "--now", now)
    weekly = next(line for line in out.splitlines() if line.startswith("weekly"))
    assert expected in weekly
    assert "cron day_of_week=mon hour=8 minute=0 (Europe/Stockholm)" in weekly


def test_jobs_lists_interval_and_disabled_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        '[jobs.build]\nkind = "build"\ninterval = "15m"\ndescription = "the site"\n'
        '[jobs.off]\nkind = "build"\ninterval = "1h"\nenabled = false\n',
    )
    out = jobs_output(capsys, "--config", str(path), "--now", "2026-07-01T12:05")
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "KIND", "SCHEDULE", "GRACE", "NEXT", "RUN", "LAST", "RUN"]
    assert "every 15m" in lines[1] and "2026-07-01 12:20 CEST (+02:00)" in lines[1]
    assert lines[2].startswith("off") and "disabled" in lines[2]
    assert "build: the site" in out
    assert not (tmp_path / "state").exists()  # listing never creates a state folder


def test_invalid_schedule_exits_nonzero_naming_job_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_JOB + '[jobs.nightly]\nkind = "build"\ncron = { hour = 25, minute = 0 }\n')
    for command in ("schedule", "jobs", "run"):
        args = ["nightly"] if command == "run" else []
        result = subprocess.run(
            pipeline_cmd(command, *args, "--config", str(path)),
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result
        assert "[jobs.nightly] cron.hour: bad value 25" in result.stderr
        assert "nothing was started" in result.stderr
        assert result.stdout == ""
    assert not (tmp_path / "state").exists()


def test_a_typo_in_a_table_the_jobs_read_stops_the_scheduler_before_it_starts(tmp_path: Path) -> None:
    """The shipped schedule with a [newsletter] typo in site.toml: refused at once, not on Monday."""
    project = make_project(tmp_path)
    site = project.root / "site.toml"
    site.write_text(
        site.read_text(encoding="utf-8") + "\n[newsletter]\nfirst_isue_days = 7\n", encoding="utf-8"
    )
    result = subprocess.run(
        pipeline_cmd("schedule", "--config", str(REPO / "schedule.toml"), "--site", str(site)),
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "[newsletter] first_isue_days: unknown setting" in result.stderr
    assert "nothing was started" in result.stderr and result.stdout == ""
    assert not (project.state / "scheduler.lock").exists()


def test_failover_defaults_to_30_seconds_and_refuses_less_than_3(tmp_path: Path) -> None:
    from datetime import timedelta

    assert load_schedule(write(tmp_path / "a", GOOD_JOB)).failover == timedelta(seconds=30)
    assert load_schedule(
        write(tmp_path / "b", '[scheduler]\nfailover = "45s"\n' + GOOD_JOB)
    ).failover == timedelta(seconds=45)
    (problem,) = problems_of(tmp_path / "c", '[scheduler]\nfailover = "2s"\n' + GOOD_JOB)
    assert problem.endswith("[scheduler] failover: must be at least 3s, got '2s'")
