"""Every update that becomes visible reaches exactly one issue (issue 17, delivery defect 5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.config.site import load_settings
from pipeline.reading.model import Update
from pipeline.stores.backend import Backend, open_backend
from tests.conftest import NOW
from tests.newsletter_helpers import write_settings


def newsletter(config: Path, content: Path, now: datetime, *extra: str) -> int:
    args = [
        "newsletter",
        "--config",
        str(config),
        "--content",
        str(content),
        "--out",
        str(config.parent / "out"),
    ]
    return main([*args, "--now", now.isoformat(), *extra])


def issue_ids(config: Path) -> dict[int, list[str]]:
    """What the configured backend recorded (GOAL17_DATABASE_URL when the test set it)."""
    with open_backend(load_settings(config)).issues() as store:
        return {issue.number: [item.id for item in issue.items] for issue in store.all()}


def test_a_draft_kept_over_a_monday_and_published_later_reaches_the_next_issue(
    tmp_path: Path, content_dir: Path, write_update, capsys, state_backend
) -> None:
    """`new` stamps the creation time; published after the issue was built, it reached no issue."""
    config = write_settings(tmp_path)
    write_update("published", date="2026-11-20T09:00")
    write_update("kept", date="2026-11-23T09:00", draft=True)  # written before Monday's issue
    assert newsletter(config, content_dir, NOW) == 0
    assert issue_ids(config) == {1: ["tag:test.example,2026:published"]}
    write_update("kept", date="2026-11-23T09:00", draft=False)  # published on Wednesday
    week = NOW + timedelta(days=7)
    assert newsletter(config, content_dir, week) == 0
    assert "built issue 2 with 1 update(s)" in capsys.readouterr().out
    assert issue_ids(config)[2] == ["tag:test.example,2026:kept"]
    # … and only there
    assert newsletter(config, content_dir, week + timedelta(days=7)) == 0
    assert "no new updates" in capsys.readouterr().out
    assert len(issue_ids(config)) == 2


def test_an_update_older_than_the_first_issue_window_stays_out(
    tmp_path: Path, content_dir: Path, write_update, state_backend
) -> None:
    config = write_settings(tmp_path)
    write_update("recent", date="2026-11-20T09:00")
    assert newsletter(config, content_dir, NOW) == 0  # window: the 30 days before NOW
    write_update("ancient", date="2026-09-01T09:00")  # published now, dated before issue 1's window
    write_update("fresh", date="2026-12-01T09:00")
    assert newsletter(config, content_dir, NOW + timedelta(days=7)) == 0
    assert issue_ids(config)[2] == ["tag:test.example,2026:fresh"]


def _update(number: int, date: datetime) -> Update:
    return Update(
        id=f"tag:test.example,2026:u{number}",
        slug=f"u{number}",
        title=f"Update {number}",
        date=date,
        updated=date,
        lang="sv",
        targets=("17.1",),
        tags=(),
        author=None,
        summary="Sammanfattning.",
        html="<p>Text.</p>",
        toc_html="",
        feed_html="<p>Text.</p>",
        image=None,
        source=f"u{number}.md",
        url=f"https://mal17.example.se/updates/u{number}/",
    )


# An update: its date and when it becomes visible (published), in hours from the start; issues: the
# hours at which they are built. All in a 60-day span around the first issue.
UPDATES = st.lists(
    st.tuples(st.integers(-40 * 24, 60 * 24), st.integers(0, 30 * 24)), min_size=1, max_size=25
)
BUILDS = st.lists(st.integers(1, 60 * 24), min_size=1, max_size=8, unique=True).map(sorted)


def _emptied(backend: Backend) -> None:
    """A fresh issue history for the next example (one database serves them all)."""
    with backend.connection() as conn:
        conn.execute("DELETE FROM newsletter_issue_updates")
        conn.execute("DELETE FROM newsletter_issues")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(updates=UPDATES, builds=BUILDS)
def test_every_visible_update_reaches_exactly_one_issue(updates, builds, state_backend) -> None:
    start = NOW
    _emptied(state_backend)
    with state_backend.issues() as store:
        if True:  # (the block of the SQLite-only version, kept so the assertions read unchanged)
            issues: dict[str, int] = {}
            floor = None
            for number, hour in enumerate(builds, start=1):
                now = start + timedelta(hours=hour)
                # visible at this build: published by now (a draft before), dated at or before now
                visible = [
                    _update(n, start + timedelta(hours=date))
                    for n, (date, delay) in enumerate(updates)
                    if start + timedelta(hours=date + delay) <= now and start + timedelta(hours=date) <= now
                ]
                issue = store.create(visible, now, first_issue_days=30, force=True)
                assert issue is not None and issue.number == number
                if floor is None:
                    floor = issue.window_start
                for item in issue.items:
                    assert item.id not in issues, f"{item.id} in issues {issues[item.id]} and {number}"
                    issues[item.id] = number
                    assert item.date > floor
                # everything visible by now and after the floor is in some issue by now
                missing = [u.id for u in visible if u.date > floor and u.id not in issues]
                assert missing == []
