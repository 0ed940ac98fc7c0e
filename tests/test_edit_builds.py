"""Edit builds equal cold builds: every kind of change an author makes, a random sequence, kills.

Each check changes the content, rebuilds with the state folder of the earlier builds, then builds
the same content cold (fresh state folder, ``--no-cache``) and compares every output byte. The
content cache keeps each update's HTML apart from its shards (``pipeline/caching/html_store.py``),
so these also check that HTML read back on use, copied into a new generation, damaged or lost
never reaches an output that a cold build would not make.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import corpus
from pipeline.caching import content_cache, html_store
from tests.conftest import REPO
from tests.test_incremental import Site

SIZE = 24
LATER = "2026-12-20T12:00:00+01:00"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path, SIZE)
    site.build(tmp_path / "out")
    return site


def update_file(site: Site, i: int) -> Path:
    return site.content / f"{corpus.slug_of(i)}.md"


def edit_front(path: Path, key: str, value: str | None) -> None:
    """Set (or with None remove) one front-matter line of an update."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text[4:].partition("\n---\n")
    lines = [line for line in head.split("\n") if not line.startswith(f"{key}:")]
    if value is not None:
        lines.append(f"{key}: {value}")
    path.write_text("---\n" + "\n".join(lines) + sep + body, encoding="utf-8")


def set_date(path: Path, value: str) -> None:
    edit_front(path, "updated", None)  # it must not be earlier than the date
    edit_front(path, "date", value)


def html_files(site: Site) -> list[Path]:
    return sorted(site.state.rglob(f"{html_store.PREFIX}*{html_store.SUFFIX}"))


def test_every_kind_of_change_matches_cold(site: Site) -> None:
    assert html_files(site), "the cached build keeps its HTML in the HTML store"
    corpus.edit_one(site.content, SIZE)
    site.cached_equals_cold()
    corpus.add_one(site.content, SIZE)
    site.cached_equals_cold()
    update_file(site, 3).unlink()  # delete
    site.cached_equals_cold()
    update_file(site, 4).rename(site.content / "omdopt.md")  # rename
    site.cached_equals_cold()
    set_date(update_file(site, 5), "2026-11-26T09:00")  # moves to the top of every listing
    site.cached_equals_cold()
    edit_front(update_file(site, 6), "targets", '["17.1", "17.19"]')
    site.cached_equals_cold()
    edit_front(update_file(site, 7), "draft", "true")
    files = site.cached_equals_cold()
    assert f"updates/{corpus.slug_of(7)}/index.html" not in files
    edit_front(update_file(site, 7), "draft", None)
    files = site.cached_equals_cold()
    assert f"updates/{corpus.slug_of(7)}/index.html" in files
    set_date(update_file(site, 8), "2026-12-10T09:00")  # scheduled
    files = site.cached_equals_cold()
    assert f"updates/{corpus.slug_of(8)}/index.html" not in files
    files = site.cached_equals_cold(now=LATER)  # ... and come due
    assert f"updates/{corpus.slug_of(8)}/index.html" in files
    (site.content / corpus.MEDIA[0]).write_bytes(corpus.tiny_png(40, 30))  # the lead image's size
    site.cached_equals_cold(now=LATER)


def random_step(site: Site, rng: random.Random, added: list[int]) -> str:
    """One change an author could make; returns what it was, for the failure message."""
    present = sorted(p for p in site.content.glob("*.md"))
    path = rng.choice(present)
    kind = rng.choice(
        ["body", "add", "delete", "rename", "date", "future", "targets", "draft", "slug", "link", "image"]
    )
    if kind == "body":
        text = path.read_text(encoding="utf-8")
        path.write_text(text + f"\nTillägg {rng.randrange(1000)}.\n", encoding="utf-8")
    elif kind == "add":
        index = SIZE + len(added)
        added.append(index)
        corpus.add_one(site.content, SIZE, index=index)
    elif kind == "delete" and len(present) > 5:
        path.unlink()
    elif kind == "rename":
        path.rename(path.with_name(f"r{rng.randrange(10**6)}-{path.name}"))
    elif kind == "date":
        edit_front(
            path, "date", f"20{rng.randrange(17, 27)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T08:00"
        )
    elif kind == "future":
        set_date(path, "2026-12-01T08:00")  # due only at LATER
    elif kind == "targets":
        chosen = rng.sample(corpus.TARGETS, rng.randrange(1, 4))
        edit_front(path, "targets", "[" + ", ".join(f'"{t}"' for t in chosen) + "]")
    elif kind == "draft":
        draft = "draft: true" in path.read_text(encoding="utf-8")
        edit_front(path, "draft", None if draft else "true")
    elif kind == "slug":
        edit_front(path, "slug", f"s-{rng.randrange(10**6)}")
    elif kind == "link":
        other = rng.choice(present).name
        path.write_text(path.read_text(encoding="utf-8") + f"\nSe [den]({other}).\n", encoding="utf-8")
    elif kind == "image":
        (site.content / corpus.MEDIA[0]).write_bytes(corpus.tiny_png(rng.randrange(8, 64), 20))
    return f"{kind} {path.name}"


def test_a_random_sequence_of_edits_matches_cold_after_every_step(site: Site) -> None:
    rng = random.Random(1717)
    added: list[int] = []
    done: list[str] = []
    for step in range(20):
        done.append(random_step(site, rng, added))
        now = LATER if step % 5 == 4 else corpus.BENCH_NOW  # scheduled ones come due, and go back
        try:
            site.cached_equals_cold(now=now)
        except AssertionError as exc:
            raise AssertionError(f"after {done}: {exc}") from None


def test_html_copied_into_a_new_generation_and_the_old_one_removed(site: Site, monkeypatch) -> None:
    """With a negative slack every save copies the live records into a new file."""
    (first,) = html_files(site)
    monkeypatch.setattr(content_cache, "COMPACT_SLACK", -(10**9))
    corpus.edit_one(site.content, SIZE)
    site.cached_equals_cold()
    (second,) = html_files(site)
    assert second != first
    corpus.add_one(site.content, SIZE)
    site.cached_equals_cold()
    (third,) = html_files(site)
    assert third not in (first, second)


def test_a_damaged_html_record_is_made_again(site: Site) -> None:
    """An added update remakes every feed, which carry the HTML of the newest updates."""
    (blob,) = html_files(site)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)  # the second half zeroed
    blob.write_bytes(bytes(data))
    corpus.add_one(site.content, SIZE)
    site.cached_equals_cold()
    for path in html_files(site):  # a lost file: every entry naming it is rendered again
        path.unlink()
    corpus.edit_one(site.content, SIZE)
    site.cached_equals_cold()


def test_a_killed_build_then_a_normal_build_matches_cold(tmp_path: Path) -> None:
    """SIGKILL at random moments of cached builds (reading, making, the cache writer)."""
    site = Site(tmp_path, 80)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(16)
    args = site.args(tmp_path / "out")
    for trial in range(4):
        if trial:
            corpus.edit_one(site.content, 80)
            corpus.add_one(site.content, 80, index=80 + trial)
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", *args, "--now", corpus.BENCH_NOW, "--quiet"],
            env=env,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.3, 4.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        site.cached_equals_cold()


def test_touch_mv_and_a_same_size_same_mtime_rewrite_are_seen(site: Site) -> None:
    """A file is known by its stats: a rewrite that keeps size and mtime still moves its ctime."""
    path = update_file(site, 9)
    os.utime(path)  # touch: same bytes, new mtime
    site.cached_equals_cold()
    moved = path.with_name("flyttad.md")
    path.rename(moved)  # mv: a new path, the same inode
    site.cached_equals_cold()
    moved.rename(path)
    site.cached_equals_cold()
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    at = text.rindex("e")
    time.sleep(0.01)  # a ctime the clock can tell apart
    path.write_text(text[:at] + "a" + text[at + 1 :], encoding="utf-8")  # same size, in place
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (
        st.st_size,
        st.st_mtime_ns,
        st.st_ino,
    )
    site.cached_equals_cold()


def test_damaged_cut_and_foreign_content_cache_files_are_ignored(site: Site) -> None:
    folder = next(site.state.glob(f"cache/{content_cache.FOLDER_NAME}/*"))
    corpus.edit_one(site.content, SIZE)
    site.cached_equals_cold()  # one frame on the log
    (log,) = folder.glob("log-*.rec")
    with open(log, "r+b") as handle:
        handle.truncate(log.stat().st_size - 5)  # a writer killed mid-frame
    corpus.edit_one(site.content, SIZE)
    site.cached_equals_cold()
    (folder / "base-99999999999999999999-00000000.rec").write_bytes(os.urandom(500))  # foreign, newest
    corpus.add_one(site.content, SIZE)
    site.cached_equals_cold()
    assert not (folder / "base-99999999999999999999-00000000.rec").exists()  # a new base replaced it
    (base,) = folder.glob("base-*.rec")
    data = bytearray(base.read_bytes())
    data[len(data) // 2] ^= 1
    base.write_bytes(bytes(data))
    update_file(site, 11).write_text(update_file(site, 11).read_text(encoding="utf-8") + "\nMer.\n", "utf-8")
    site.cached_equals_cold()
