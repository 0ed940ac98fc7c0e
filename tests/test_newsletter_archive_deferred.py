"""A long newsletter history (issue 16): building the next issue renders only the new issue.

Past issues' files are deferred outputs: kept as they are (same inode and mtime, not re-rendered),
and the published archive is byte for byte what a cold build of the same issues makes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.caching.deferred import materialize_all
from pipeline.config.mail import newsletter_config
from pipeline.config.site import load_settings
from pipeline.delivery.issues import IssueStore
from pipeline.outputs.newsletter import archive
from pipeline.publishing.issue_build import build_issue
from tests.conftest import NOW
from tests.newsletter_helpers import write_settings
from tests.state_db import connect

WEEK = timedelta(days=7)


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_next_issue_renders_only_itself_and_equals_a_cold_build(
    tmp_path: Path, content_dir: Path, write_update, monkeypatch
) -> None:
    settings = load_settings(write_settings(tmp_path))
    out = tmp_path / "out"
    start = NOW - 6 * WEEK
    for week in range(5):
        when = start + week * WEEK
        write_update(
            f"vecka-{week}", date=(when - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"]
        )
        assert build_issue(content_dir, out, settings, when).issue is not None
    before = stats(out / "newsletters")
    renders = []
    real = archive.render_edition
    monkeypatch.setattr(
        archive,
        "render_edition",
        lambda issue, lang, *a, **k: renders.append((issue.number, lang)) or real(issue, lang, *a, **k),
    )
    when = start + 5 * WEEK
    write_update("vecka-5", date=(when - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"])
    outcome = build_issue(content_dir, out, settings, when)
    assert outcome.issue is not None and outcome.issue.number == 6
    # Only the new issue: its two web editions; nothing of issues 1–5. Its sample message reuses
    # the edition the size check rendered (one render per edition, tests/test_newsletter_render_once.py).
    assert sorted(renders) == [(6, "en"), (6, "sv")]
    after = stats(out / "newsletters")
    for path, stat in before.items():
        if path.split("/")[0].isdigit():
            assert after[path] == stat, path  # untouched: not re-made, not re-written
    assert {p for p in after if p.startswith("6/")} == {
        "6/index.html",
        "6/index.txt",
        "6/en/index.html",
        "6/en/index.txt",
        "6/message.eml",
    }
    # Cached == cold, byte for byte.
    with connect(newsletter_config(settings)) as conn:
        issues = IssueStore(conn).all()
    cold = materialize_all(archive.archive_files(issues, settings, newsletter_config(settings)))
    published = {
        f"newsletters/{p.relative_to(out / 'newsletters').as_posix()}": p.read_bytes()
        for p in (out / "newsletters").rglob("*")
        if p.is_file()
    }
    assert published == cold


def test_a_changed_setting_remakes_every_issue(tmp_path: Path, content_dir: Path, write_update) -> None:
    out = tmp_path / "out"
    write_update("ett", date=(NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), targets=["17.9"])
    settings = load_settings(write_settings(tmp_path))
    build_issue(content_dir, out, settings, NOW)
    old = (out / "newsletters" / "1" / "index.html").read_bytes()
    settings = load_settings(_retitled(tmp_path))
    build_issue(content_dir, out, settings, NOW + timedelta(hours=1))
    new = (out / "newsletters" / "1" / "index.html").read_bytes()
    assert new != old and b"Ett annat namn" in new


def _retitled(folder: Path) -> Path:
    path = folder / "site.toml"
    path.write_text('[site]\nstate_dir = "state"\ntitle = "Ett annat namn"\n', encoding="utf-8")
    return path
