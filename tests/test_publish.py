"""Atomic, minimal publishing of a build's files."""

from __future__ import annotations

import os

import pytest

from pipeline.publish import MARKER, PublishError, publish


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
    from pipeline.deferred import Deferred

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
