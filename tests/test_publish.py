"""Atomic, minimal publishing of a build's files."""

from __future__ import annotations

import os
from datetime import UTC

import pytest

from pipeline.publishing.journal import interrupted
from pipeline.publishing.manifest import manifest_intact, read_manifest
from pipeline.publishing.output_folder import MARKER, PublishError
from pipeline.publishing.publish import publish


def snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_first_publish_writes_everything(tmp_path):
    out = tmp_path / "out"
    report = publish(out, {"a.txt": b"A", "d/b.txt": b"B"})
    assert (out / "a.txt").read_bytes() == b"A" and (out / "d" / "b.txt").read_bytes() == b"B"
    assert (out / MARKER).exists()
    assert sorted(report.written) == [MARKER, "a.txt", "d/b.txt"]


def test_nothing_changed_touches_nothing(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.txt": b"A", "d/b.txt": b"B"})
    before = snapshot(out)
    dir_inode = out.stat().st_ino
    report = publish(out, {"a.txt": b"A", "d/b.txt": b"B"})
    assert not report.changed
    assert snapshot(out) == before and out.stat().st_ino == dir_inode


def test_unchanged_files_keep_mtime_when_others_change(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.txt": b"A", "b.txt": b"B", "gone.txt": b"G"})
    os.utime(out / "a.txt", ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(out)
    report = publish(out, {"a.txt": b"A", "b.txt": b"B2"})
    after = snapshot(out)
    assert after["a.txt"] == before["a.txt"]
    assert after["b.txt"][0] == b"B2"
    assert "gone.txt" not in after
    assert report.written == ["b.txt"] and report.removed == ["gone.txt"]
    assert not list(tmp_path.glob(".out.staging-*"))


def test_preserved_paths_are_carried_over(tmp_path):
    out = tmp_path / "out"
    publish(out, {"index.html": b"1", "newsletters/1/index.html": b"N"})
    publish(out, {"index.html": b"2"}, preserve=lambda p: p.startswith("newsletters/"))
    assert (out / "newsletters/1/index.html").read_bytes() == b"N"
    assert (out / "index.html").read_bytes() == b"2"


def test_refuses_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "repo"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(PublishError, match="not made by this pipeline"):
        publish(precious, {"index.html": b"x"})
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_refuses_paths_outside_the_folder(tmp_path):
    for bad in ("../x", "/etc/passwd", "a//b", MARKER):
        with pytest.raises(PublishError):
            publish(tmp_path / "out", {bad: b"x"})


def test_failure_while_staging_leaves_the_old_tree(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.txt": b"A"})
    before = snapshot(out)

    with pytest.raises(TypeError):  # the second file cannot be written, after the first was staged
        publish(out, {"a.txt": b"new", "b.txt": "not bytes"})
    assert snapshot(out) == before
    assert not list(tmp_path.glob(".out.staging-*"))


def test_files_made_on_both_cores_equal_files_made_in_one(tmp_path, monkeypatch):
    from pipeline import forkpool
    from pipeline.caching.deferred import Deferred

    files = {
        f"p/{i}/index.html": Deferred(f"k{i}", lambda i=i: f"page {i}".encode() * 50) for i in range(300)
    }
    files["a.txt"] = b"plain"
    monkeypatch.setattr(forkpool, "WORKERS", 2)
    parallel = publish(tmp_path / "parallel", files)
    monkeypatch.setattr(forkpool, "WORKERS", 1)
    serial = publish(tmp_path / "serial", files)
    assert parallel.written == serial.written and len(parallel.written) == 302
    tree = {
        p.relative_to(tmp_path / "serial").as_posix(): p.read_bytes()
        for p in (tmp_path / "serial").rglob("*")
        if p.is_file()
    }
    assert {
        p.relative_to(tmp_path / "parallel").as_posix(): p.read_bytes()
        for p in (tmp_path / "parallel").rglob("*")
        if p.is_file()
    } == tree

    def broken() -> bytes:
        raise RuntimeError("a template failed in a worker")

    monkeypatch.setattr(forkpool, "WORKERS", 2)
    before = snapshot(tmp_path / "parallel")
    with pytest.raises(RuntimeError, match="failed in a worker"):
        publish(tmp_path / "parallel", {**files, "p/7/index.html": Deferred("other", broken)})
    assert snapshot(tmp_path / "parallel") == before


def test_progress_follows_the_files_being_made(tmp_path):
    out = tmp_path / "out"
    calls: list[tuple[int, int]] = []
    files = {f"sida/{n}/index.html": f"<p>{n}</p>".encode() for n in range(5)}
    publish(out, files, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 6) for n in range(1, 7)]  # five pages and the folder's marker file
    calls.clear()
    publish(out, files, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 6) for n in range(1, 7)]  # plain bytes are compared, not skipped unmade


# -- an interrupted publish is completed by the next one (issue 17, defect 9) ---------------------


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Killed(BaseException):
    """Stands in for SIGKILL: raised from inside the rename phase, caught by no handler."""


def interrupt_after(monkeypatch, renames: int) -> None:
    """Make the n-th rename into the output folder 'kill' the publish (os.replace is its only move)."""
    real = os.replace
    count = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        if ".staging-" in str(src):
            count["n"] += 1
            if count["n"] > renames:
                raise Killed()
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


MANIFEST_NAME = "0" * 32 + ".json"  # as build.run_build names it: the digest of the folder
A = {
    "index.html": b"A index",
    "updates/a/index.html": b"a",
    "updates/b/index.html": b"b",
    "feeds/x.xml": b"A",
}
B = {
    "index.html": b"B index",
    "updates/c/index.html": b"c",
    "updates/d/index.html": b"d",
    "feeds/x.xml": b"B",
}


@pytest.mark.parametrize("renames", [0, 1, 2, 3])
def test_revert_after_a_publish_killed_while_moving_files_leaves_no_orphans(tmp_path, monkeypatch, renames):
    """Publish A, start B and kill it part-way through its moves, publish A again: exactly A."""
    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    with monkeypatch.context() as patch:
        interrupt_after(patch, renames)
        with pytest.raises(Killed):
            publish(out, B, manifest_path=manifest)
    assert (tmp_path / ".out.journal").exists()
    publish(out, A, manifest_path=manifest)
    assert tree(out) == tree_of_fresh(tmp_path, A)
    assert not (tmp_path / ".out.journal").exists() and not list(tmp_path.glob(".out.staging-*"))
    recorded = read_manifest(manifest)
    assert set(recorded.files) == set(tree(out)) and manifest_intact(out, recorded)


@pytest.mark.parametrize("renames", [0, 2])
def test_retry_after_a_killed_publish_finishes_it(tmp_path, monkeypatch, renames):
    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    with monkeypatch.context() as patch:
        interrupt_after(patch, renames)
        with pytest.raises(Killed):
            publish(out, B, manifest_path=manifest)
    assert interrupted(out)
    publish(out, B, manifest_path=manifest)
    assert tree(out) == tree_of_fresh(tmp_path, B) and not interrupted(out)


def test_another_publisher_of_the_folder_completes_the_killed_publish(tmp_path, monkeypatch):
    """The newsletter job (no manifest, preserves everything else) finishes a killed site publish
    before carrying the site over, so it never carries a half-made mix."""
    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    with monkeypatch.context() as patch:
        interrupt_after(patch, 1)
        with pytest.raises(Killed):
            publish(out, B, manifest_path=manifest)
    publish(out, {"newsletters/1/index.html": b"N"}, preserve=lambda rel: not rel.startswith("newsletters/"))
    assert tree(out) == {**tree_of_fresh(tmp_path, B), "newsletters/1/index.html": b"N"}
    assert set(read_manifest(manifest).files) == set(tree_of_fresh(tmp_path, B))  # the site's record


def test_killed_first_publish_is_completed(tmp_path, monkeypatch):
    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        raise Killed()

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", rename)
        with pytest.raises(Killed):
            publish(out, A, manifest_path=manifest)
    assert not out.exists() and interrupted(out)
    assert real is os.rename
    publish(out, B, manifest_path=manifest)
    assert tree(out) == tree_of_fresh(tmp_path, B)


def test_a_journal_that_is_not_ours_falls_back_to_walking_the_folder(tmp_path):
    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    (out / "updates" / "stray").mkdir()
    (out / "updates" / "stray" / "index.html").write_bytes(b"left by a killed build")
    (tmp_path / ".out.journal").write_bytes(b"{not json")
    publish(out, B, manifest_path=manifest)
    assert tree(out) == tree_of_fresh(tmp_path, B)


def test_skip_is_never_taken_while_a_publish_is_unfinished(tmp_path, monkeypatch):
    """A killed publish has not changed any file yet (killed right after its journal), and the
    content is back as the previous build saw it: the build must still publish, or the next
    publisher would roll the killed build's files in."""
    from pipeline.publishing.site_build import _skip_if_unchanged

    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    stamp = {"inputs": "x", "valid_from": None, "valid_until": None}
    stamp["summary"] = {"updates": 1, "drafts": 0, "scheduled": [], "warnings": []}
    publish(out, A, manifest_path=manifest, stamp=stamp)
    from datetime import datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert _skip_if_unchanged(read_manifest(manifest), out, "x", now) is not None
    with monkeypatch.context() as patch:
        interrupt_after(patch, 0)
        with pytest.raises(Killed):
            publish(out, B, manifest_path=manifest)
    assert _skip_if_unchanged(read_manifest(manifest), out, "x", now) is None


def test_refused_output_folder_gets_no_lock_file(tmp_path):
    target = tmp_path / "README.md"
    target.write_text("not a folder\n")
    with pytest.raises(PublishError):
        publish(target, {"a.txt": b"A"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def tree_of_fresh(tmp_path, files):
    fresh = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    publish(fresh, files)
    return tree(fresh)


def test_an_os_error_while_moving_is_one_line_and_the_next_publish_completes(tmp_path, monkeypatch):
    import errno

    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    real = os.replace
    calls = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        if ".staging-" in str(src):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.EIO, "Input/output error", str(dst))
        return real(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        with pytest.raises(
            PublishError, match="was interrupted: Input/output error .*the next build completes it"
        ):
            publish(out, B, manifest_path=manifest)
    publish(out, B, manifest_path=manifest)
    assert tree(out) == tree_of_fresh(tmp_path, B) and not interrupted(out)


def test_an_os_error_while_staging_leaves_the_folder_and_says_so(tmp_path, monkeypatch):
    import errno

    from pipeline.publishing import publish as publish_module

    out = tmp_path / "out"
    publish(out, A)
    before = tree(out)

    def full(path, data, *folders):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(publish_module, "_write_new", full)
    with pytest.raises(PublishError, match="cannot write the new files: No space left on device"):
        publish(out, B)
    assert tree(out) == before and not list(tmp_path.glob(".out.staging-*")) and not interrupted(out)


def test_a_forged_journal_moves_and_deletes_nothing_outside_the_folder(tmp_path):
    """A journal naming another staging folder or a manifest elsewhere is not acted on."""
    import json as json_module

    out, manifest = tmp_path / "out", tmp_path / "state" / "outputs" / MANIFEST_NAME
    publish(out, A, manifest_path=manifest)
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "index.html").write_bytes(b"keep me")
    (tmp_path / "settings.json").write_bytes(b"{}")
    forged = {
        "format": 1, "staging": str(victim), "tree": False, "written": ["index.html"], "removed": [],
        "manifest_path": str(tmp_path / "settings.json"), "manifest": {"stamp": None, "files": {}},
    }  # fmt: skip
    (tmp_path / ".out.journal").write_text(json_module.dumps(forged))
    publish(out, B, manifest_path=manifest)
    assert (victim / "index.html").read_bytes() == b"keep me"
    assert (tmp_path / "settings.json").read_bytes() == b"{}"
    assert tree(out) == tree_of_fresh(tmp_path, B)


def test_new_folders_of_every_depth_are_made_by_either_worker(tmp_path, monkeypatch):
    from pipeline import forkpool
    from pipeline.caching.deferred import Deferred

    # Deep new folders, folders both workers write into, and a file beside a folder of the
    # same prefix: every file must land whole, made on both cores or in one.
    files = {
        f"u/{i:03}/index.html": Deferred(f"u{i}", lambda i=i: f"<p>{i}</p>".encode()) for i in range(260)
    }
    files |= {f"f/{i % 3}/x/{i}.xml": f"feed {i}".encode() for i in range(60)}
    files |= {"f/0.txt": b"beside", "deep/a/b/c/d/e.txt": b"deep"}
    expected = {rel: data.produce() if isinstance(data, Deferred) else data for rel, data in files.items()}
    for workers in (2, 1):
        monkeypatch.setattr(forkpool, "WORKERS", workers)
        out = tmp_path / f"out{workers}"
        publish(out, files)
        got = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert got == {**expected, MARKER: (out / MARKER).read_bytes()}
        # A second publish with new folders inside old ones moves them in one by one.
        more = {**files, "u/000/extra/more.html": b"more", "new/top.html": b"top"}
        publish(out, more)
        assert (out / "u/000/extra/more.html").read_bytes() == b"more"
        assert (out / "new/top.html").read_bytes() == b"top" and (out / "u/259/index.html").exists()
