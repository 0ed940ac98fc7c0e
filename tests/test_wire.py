"""What the forked readers and renderers send back (``pipeline.caching.wire``) is what they made.

Differential: a read whose results travel as records gives exactly the objects a read that sends
them as they are gives (real inputs: example content, the bench corpus with two seeds, the dense
corpus, tests/data/markdown_wider), through a pickle round trip as the pool makes it; hostile
hypothesis-made entries come back exactly or travel as themselves. A worker killed while it
writes the HTML store fails the build with one line, and the next build is a cold build's bytes.
"""

from __future__ import annotations

import marshal
import os
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.caching import content_records as cr
from pipeline.caching import html_store, wire
from pipeline.caching.content_cache import cache_path, read_cached
from pipeline.cli import main
from pipeline.forkpool import join_background
from pipeline.reading import content as reading
from pipeline.reading.model import LAZY_FIELDS, CachedSource, Update, sort_key
from tests.conftest import NOW
from tests.test_content_records import Capture, entries, exactly, same_entry
from tests.test_html_store_records import _corpus, _texts
from tests.test_incremental import Site, tree

KINDS = ["example", "wider", "seed17", "seed3", "dense"]


def _as_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """The general path: every result travels as the objects themselves."""
    monkeypatch.setattr(wire, "pack_parsed", lambda result: result)
    monkeypatch.setattr(wire, "pack_finished", lambda source, warnings, finished: finished)


def _pooled(item: Any) -> Any:
    return pickle.loads(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))


def _same_html(a: Update, b: Update) -> None:
    for name in LAZY_FIELDS:
        assert exactly(getattr(a, name), getattr(b, name)), name


def _same(a: CachedSource, b: CachedSource) -> None:
    """Every field exactly alike, the HTML too (wherever either keeps it)."""
    if a.finished is None or b.finished is None:
        same_entry(a, b)
        return
    _same_html(a.finished.update, b.finished.update)
    same_entry(_lazy(a), _lazy(b))


def _lazy(entry: CachedSource) -> CachedSource:
    """``entry`` with its update's HTML replaced by a reference (as same_entry compares)."""
    assert entry.finished is not None
    update = entry.finished.update
    lazy = update if "_body" in update.__dict__ else update.with_body(html_store.HtmlRef("/", 0, 0))
    done = entry.finished
    return CachedSource(
        entry.source, entry.warnings, type(done)(lazy, done.lookups, done.image_size, done.warnings)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_through_records_gives_the_objects_a_read_without_them_gives(
    kind, tmp_path, settings, monkeypatch
):
    content = _corpus(kind, tmp_path / "c")
    packed, plain = Capture(), Capture()
    read = reading.read_content(content, settings, NOW, cache=packed)
    with monkeypatch.context() as m:
        _as_objects(m)
        expected = reading.read_content(content, settings, NOW, cache=plain)
    assert read.updates and sorted(packed.entries) == sorted(plain.entries)
    for key, entry in plain.entries.items():
        _same(entry, packed.entries[key])
    assert [u.source for u in read.updates] == [u.source for u in expected.updates]
    assert read.warnings == expected.warnings
    for a, b in zip(expected.updates, read.updates, strict=True):
        _same_html(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_parsed_files_come_back_as_they_were(kind, tmp_path, settings):
    content = _corpus(kind, tmp_path / "c")
    limit = reading.max_update_bytes(settings)
    files = sorted(p.relative_to(content).as_posix() for p in content.rglob("*.md"))
    assert files
    for rel in files:
        source, problems = reading.parse_file(content, rel, settings, limit)
        for item in (wire.pack_parsed((source, problems)), _pooled(wire.pack_parsed((source, problems)))):
            back, back_problems, body, flat = wire.unpack_parsed(item)
            assert exactly(back_problems, problems)
            assert flat is not None  # real files are all carried as records
            assert body == source.body and back.body is None
            for name, value in source.__dict__.items():
                if name != "body":
                    assert exactly(value, back.__dict__[name]), name
            assert flat == cr.encode(CachedSource(back, problems, None), cr.Encoder())


def _in_memory(entry: CachedSource, html: str, toc: str, feed: str | None) -> CachedSource:
    """A hypothesis entry as a render worker holds it: the HTML in memory, not in a store."""
    if entry.finished is not None:
        state = entry.finished.update.__dict__
        state.pop("_body", None)
        state.update(html=html, toc_html=toc, feed_html=html if feed is None else feed)
    return entry


HTML = st.text(alphabet=st.characters(blacklist_categories=()), max_size=60)  # surrogates too


@given(entries(), HTML, HTML, st.none() | HTML, st.booleans())
def test_hostile_finished_updates_come_back_as_they_were(entry, html, toc, feed, pooled):
    entry = _in_memory(entry, html, toc, feed)
    if entry.finished is None:
        return
    try:
        sort_key(entry.finished.update)  # what the build computes next, now in the worker
    except (OverflowError, ValueError, OSError):
        return  # a date no content can hold: it fails alike in both places
    item = wire.pack_finished(entry.source, entry.warnings, entry.finished)
    finished, made, flat = wire.unpack_finished(_pooled(item) if pooled else item)
    if made is None:  # declined: the objects travelled themselves
        assert flat is None and type(item) is not wire.Packed
        assert _pooled(finished) == entry.finished if pooled else finished is entry.finished
        return
    _same(entry, made)
    assert exactly(wire.Sharer().share(flat), flat)


@given(entries())
def test_sharing_equal_parts_changes_no_value(entry):
    flat = cr.encode(entry, cr.Encoder())
    alone = marshal.loads(marshal.dumps(flat))  # as a worker's record arrives: nothing shared
    shared = wire.Sharer().share(alone)
    assert exactly(shared, flat)
    same_entry(entry, cr.Decoder().decode(shared))


def test_records_from_the_workers_are_stored_as_compactly_as_a_save_encodes_them(tmp_path, settings):
    content = write_corpus(tmp_path / "c", 60, seed=4)
    capture = Capture()
    reading.read_content(content, settings, NOW, cache=capture)
    flats = [
        cr.encode(entry, cr.Encoder(), html_store.HtmlRef("/s/h.blob", 0, 1), inline=True)
        for entry in capture.entries.values()
    ]
    encoder, sharer = cr.Encoder(), wire.Sharer()
    together = [
        cr.encode(e, encoder, html_store.HtmlRef("/s/h.blob", 0, 1)) for e in capture.entries.values()
    ]
    apart = [sharer.share(marshal.loads(marshal.dumps(flat))) for flat in flats]
    assert apart == together
    assert len(marshal.dumps(apart)) <= len(marshal.dumps(together)) * 1.02


def test_a_batch_settled_into_the_store_names_its_html_by_place(tmp_path, settings):
    content = write_corpus(tmp_path / "c", 8, seed=2)
    capture = Capture()
    read = reading.read_content(content, settings, NOW, cache=capture)
    finished = [e.finished for e in capture.entries.values() if e.finished is not None]
    sources = [e.source for e in capture.entries.values() if e.finished is not None]
    warnings = [e.warnings for e in capture.entries.values() if e.finished is not None]
    sink = tmp_path / "state" / "html-0.blob"
    html_store.create(sink)
    settle = wire.settle_into(sink, sources, warnings)
    packed = settle(range(len(finished)), finished)
    assert sink.stat().st_size > 0
    for item, done in zip(packed, finished, strict=True):
        back, made, flat = wire.unpack_finished(_pooled(item))
        assert "_body" in back.update.__dict__ and type(flat[2][5][1]) is int
        _same_html(done.update, back.update)  # read back from the store, checked
    assert len(read.updates) == len(finished)
    sink.unlink()  # removed by another build: the batch travels with its strings instead
    again = wire.unpack_finished(_pooled(settle(range(1), finished[:1])[0]))[0]
    assert "_body" not in again.update.__dict__
    _same_html(finished[0].update, again.update)


def test_a_cold_build_leaves_one_html_file_and_reads_back_the_same_texts(tmp_path, settings, monkeypatch):
    content = write_corpus(tmp_path / "c", 80, seed=9)
    expected = _texts(read_cached(content, settings, NOW, use_cache=False))
    monkeypatch.setattr(
        html_store, "register_repair", lambda folder, repair: None
    )  # no repair hides a misread
    cold = read_cached(content, settings, NOW)  # renders in the pool: the HTML written there
    assert all("_body" in u.__dict__ for u in cold.updates)
    assert _texts(cold) == expected
    join_background()
    assert len(html_store.generations(cache_path(settings, content))) == 1
    assert _texts(read_cached(content, settings, NOW)) == expected
    join_background()


def test_a_worker_killed_while_it_writes_fails_the_build_and_the_next_is_cold_bytes(
    tmp_path, monkeypatch, capsys
):
    site = Site(tmp_path)
    parent = os.getpid()
    write_all = html_store._write_all

    def die_half_way(fd: int, parts: list[bytes]) -> None:
        if os.getpid() != parent:  # a render worker: half a batch, then gone
            os.write(fd, parts[0][: len(parts[0]) // 2])
            os._exit(9)
        write_all(fd, parts)

    monkeypatch.setattr(html_store, "_write_all", die_half_way)
    args = site.args(tmp_path / "o")
    assert main([*args, "--now", "2026-11-27T12:00:00+01:00", "--quiet"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "a worker process of the build ended before its work was done (exit status 9)" in err
    assert "internal error" not in err, "a lost worker (killed, out of memory) is no bug of ours"
    assert not (tmp_path / "o" / "index.html").exists()
    monkeypatch.setattr(html_store, "_write_all", write_all)
    site.cached_equals_cold()  # the half-written record is named by nothing: only misses
    site.cached_equals_cold()


def test_two_cold_builds_on_one_state_folder_both_publish_cold_bytes(tmp_path):
    site = Site(tmp_path)
    out = [tmp_path / "a", tmp_path / "b"]
    cfg = ["--config", str(site.config), "--content", str(site.content), "--now", "2026-11-27T12:00:00+01:00"]
    pids = []
    for folder in out:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports by its exit status
            code = 1
            try:
                code = main(["build", *cfg, "--out", str(folder), "--quiet"])
            finally:
                os._exit(code)
        pids.append(pid)
    assert all(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 for pid in pids)
    assert tree(out[0]) == tree(out[1])
    site.cached_equals_cold()


def test_no_cache_writes_no_cache_into_the_state_folder(tmp_path):
    site = Site(tmp_path)
    site.build(tmp_path / "o", "--no-cache")  # its records still travel from the workers
    assert not (site.state / "cache").exists() or not any(
        p.is_file() for p in (site.state / "cache").rglob("*")
    )


def test_a_state_folder_that_cannot_take_the_html_file_still_builds(tmp_path, settings, monkeypatch):
    content = write_corpus(tmp_path / "c", 60, seed=6)
    expected = _texts(read_cached(content, settings, NOW, use_cache=False))

    def refuse(path: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html_store, "create", refuse)
    assert _texts(read_cached(content, settings, NOW)) == expected  # the HTML travels with the records
    join_background()
    monkeypatch.undo()
    again = read_cached(content, settings, NOW)  # the save put it in the store all the same
    assert all("_body" in u.__dict__ for u in again.updates)
    assert _texts(again) == expected
    join_background()


def test_damaged_records_the_pool_wrote_are_made_again_from_the_source(tmp_path, settings):
    content = write_corpus(tmp_path / "c", 80, seed=8)  # above the pool threshold: workers write the HTML
    expected = _texts(read_cached(content, settings, NOW, use_cache=False))
    cold = read_cached(content, settings, NOW)
    (blob,) = html_store.generations(cache_path(settings, content))
    data = bytearray(blob.read_bytes())
    for at in range(50, len(data), 1499):  # the records the workers just wrote, damaged under the build
        data[at] ^= 0xFF
    blob.write_bytes(bytes(data))
    assert _texts(cold) == expected  # read by pread, checked, repaired from the source
    join_background()
    assert _texts(read_cached(content, settings, NOW)) == expected
    join_background()
