"""Incremental builds: what is reused, what is made again, and that nothing stale survives."""

from __future__ import annotations

import shutil

import pytest

from pipeline.caching.content_cache import cache_path
from pipeline.caching.deferred import Deferred
from pipeline.cli import main
from pipeline.config.site import default_settings
from pipeline.publishing.publish import publish


@pytest.fixture
def site(tmp_path, write_update, content_dir):
    write_update("forsta", body="Första [andra](andra.md).\n", targets=["17.9"], date="2026-10-01")
    write_update("andra", body="Andra.\n", targets=["17.17"], date="2026-10-02")
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    return content_dir, config, tmp_path / "out"


def build(site, capsys, now="2026-11-27T12:00", *extra):
    content, config, out = site
    args = ["build", "--config", str(config), "--content", str(content), "--out", str(out), "--now", now]
    assert main([*args, *extra]) == 0
    return capsys.readouterr().out


def stats(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_nothing_changed_skips_the_build_and_touches_nothing(site, capsys):
    build(site, capsys)
    before = stats(site[2])
    assert "nothing changed since the last build" in build(site, capsys)
    assert stats(site[2]) == before


def test_a_scheduled_update_coming_due_is_published(site, capsys, write_update):
    write_update("snart", date="2026-11-27T12:30")
    build(site, capsys)
    assert not (site[2] / "updates" / "snart").exists()
    out = build(site, capsys, "2026-11-27T12:31")
    assert "nothing changed" not in out and (site[2] / "updates" / "snart" / "index.html").exists()


def test_an_earlier_now_unpublishes_again(site, capsys):
    build(site, capsys)
    build(site, capsys, "2026-10-01T12:00")
    assert not (site[2] / "updates" / "andra").exists()


def test_edit_remakes_only_what_shows_the_update(site, capsys, content_dir):
    build(site, capsys)
    before = stats(site[2])
    path = content_dir / "andra.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Andra.", "Andra, rättad."), encoding="utf-8")
    build(site, capsys)
    after = stats(site[2])
    changed = {p for p in after if after[p] != before.get(p)}
    assert "updates/andra/index.html" in changed and "feeds/atom.xml" in changed
    assert "updates/forsta/index.html" not in changed and "targets/17.9/index.html" not in changed
    assert "Andra, rättad." in (site[2] / "updates/andra/index.html").read_text(encoding="utf-8")


def test_renaming_a_linked_update_changes_the_page_linking_to_it(site, capsys, content_dir):
    build(site, capsys)
    path = content_dir / "andra.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("---\n", "---\nslug: nytt-namn\n", 1), encoding="utf-8"
    )
    build(site, capsys)
    # pages link each other relatively: from updates/forsta/ the renamed page is ../nytt-namn/
    assert 'href="../nytt-namn/"' in (site[2] / "updates/forsta/index.html").read_text(encoding="utf-8")
    assert not (site[2] / "updates" / "andra").exists()


def test_a_tampered_output_file_is_repaired(site, capsys):
    build(site, capsys)
    page = site[2] / "updates/forsta/index.html"
    good = page.read_bytes()
    page.write_bytes(b"defaced")
    assert "nothing changed" not in build(site, capsys)
    assert page.read_bytes() == good


def test_a_corrupt_content_cache_is_ignored_and_rewritten(site, capsys, tmp_path):
    build(site, capsys)
    reference = {p: (site[2] / p).read_bytes() for p in stats(site[2])}
    settings = default_settings(state_dir=str(tmp_path / "state"))
    shards = list(cache_path(settings, site[0]).glob("base-*.rec"))
    assert shards
    for shard in shards:
        shard.write_bytes(shard.read_bytes()[:-7] + b"garbage")
    shutil.rmtree(tmp_path / "state" / "outputs")  # forget the last build too: everything is made again
    build(site, capsys)
    assert {p: (site[2] / p).read_bytes() for p in stats(site[2])} == reference
    assert not any(shard.exists() for shard in shards)  # a new base written whole, the damaged one gone
    assert len(list(cache_path(settings, site[0]).glob("base-*.rec"))) == 1


def test_a_lost_manifest_only_costs_time(site, capsys, tmp_path):
    build(site, capsys)
    before = stats(site[2])
    shutil.rmtree(tmp_path / "state" / "outputs")
    build(site, capsys)
    assert stats(site[2]) == before  # every file made again, found identical, left alone


def test_a_failing_output_leaves_the_folder_untouched(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.html": b"A", "b.html": Deferred("k1", lambda: b"B")})
    before = stats(out)

    def broken() -> bytes:
        raise RuntimeError("template exploded")

    with pytest.raises(RuntimeError):
        publish(out, {"a.html": b"A2", "b.html": Deferred("k2", broken)})
    assert stats(out) == before and (out / "a.html").read_bytes() == b"A"
    assert not list(tmp_path.glob(".out.staging-*"))


def test_builds_in_one_process_leave_nothing_frozen_and_match_a_cold_build(
    site, capsys, content_dir, tmp_path
):
    """The caches freeze what they load for the build (GC); a long-running process (the
    scheduler) gets it all back for collection when each build ends, and an edit build made
    from frozen cache entries equals a cold build byte for byte."""
    import gc

    build(site, capsys)
    assert gc.get_freeze_count() == 0
    path = content_dir / "andra.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Andra.", "Andra, igen."), encoding="utf-8")
    build(site, capsys)  # loads the content cache: its shards are frozen while the build runs
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
    content, _config, out = site
    cold_config = tmp_path / "cold.toml"
    cold_config.write_text(f'[site]\nstate_dir = "{tmp_path / "cold-state"}"\n', encoding="utf-8")
    cold = tmp_path / "cold-out"
    assert main(["build", "--config", str(cold_config), "--content", str(content), "--out", str(cold),
                 "--now", "2026-11-27T12:00"]) == 0  # fmt: skip
    capsys.readouterr()
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    cold_files = {p.relative_to(cold).as_posix(): p.read_bytes() for p in cold.rglob("*") if p.is_file()}
    assert files == cold_files
