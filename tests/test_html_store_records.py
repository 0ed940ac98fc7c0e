"""The HTML store's records: a ``feed_html`` equal to ``html`` stored once, records written by ``writev``.

The shortcut (store one text, mark the other) must give back exactly the three texts a build made,
over real content and hostile strings; a damaged, truncated or foreign record is refused, never
misread, and a build over such a store makes the same site as one without a cache.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.corpus import write_corpus
from bench.dense_corpus import write_dense_corpus
from pipeline.caching import html_store
from pipeline.caching.content_cache import EARLIER_FORMATS, cache_path, read_cached
from pipeline.forkpool import join_background
from tests.conftest import NOW

ROOT = Path(__file__).parent.parent
WIDER = Path(__file__).parent / "data" / "markdown_wider"
FP = "f" * 64
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


def _texts(read) -> dict[str, tuple[str, str, str]]:
    return {u.source: (u.html, u.toc_html, u.feed_html) for u in read.updates}


def _wider(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, path in enumerate(sorted(WIDER.glob("*.md"))):
        head = (
            f'---\ntitle: "W {i}"\nid: "tag:test.example,2026:w{i}"\ndate: 2026-03-{i % 28 + 1:02d}T09:00\n'
        )
        (folder / path.name).write_text(head + "targets: [17.1]\n---\n" + path.read_text("utf-8"), "utf-8")
    return folder


def _corpus(kind: str, folder: Path) -> Path:
    if kind == "example":
        shutil.copytree(ROOT / "content", folder)
        return folder
    if kind == "wider":
        return _wider(folder)
    if kind == "dense":
        return write_dense_corpus(folder, 30)
    return write_corpus(folder, 60, seed=int(kind.removeprefix("seed")))


@pytest.mark.parametrize("kind", ["example", "wider", "seed17", "seed3", "dense"])
def test_cached_texts_are_the_ones_a_build_without_cache_makes(kind, tmp_path, settings):
    content = _corpus(kind, tmp_path / "c")
    expected = _texts(read_cached(content, settings, NOW, use_cache=False))
    assert expected
    read_cached(content, settings, NOW)
    join_background()
    again = read_cached(content, settings, NOW)  # every update from the cache, its HTML from the store
    join_background()
    assert all("_body" in u.__dict__ for u in again.updates)
    assert _texts(again) == expected


@given(html=TEXT, toc_html=TEXT, feed_html=TEXT, same=st.sampled_from(["is", "equal", "own"]))
def test_a_record_gives_back_its_three_texts(html, toc_html, feed_html, same):
    if same == "is":
        feed_html = html
    elif same == "equal":
        feed_html = "".join(list(html))  # equal, most often another object
    record = html_store.encode(FP, html, toc_html, feed_html)
    assert len(record) == html_store.encoded_length(html, toc_html, feed_html)
    assert html_store._decode(record, FP) == (html, toc_html, feed_html)
    assert html_store._decode(record, "e" * 64) is None  # another update's record
    assert html_store._decode(record[:-1], FP) is None  # cut short
    for at in {0, html_store._CHECK, html_store._CHECK + 20, len(record) - 1}:
        damaged = bytearray(record)
        damaged[at] ^= 0x01
        assert html_store._decode(bytes(damaged), FP) is None


def test_a_shared_feed_text_is_stored_once():
    html = "<p>Å" + "x" * 1000 + "</p>"
    shared = html_store.encode(FP, html, "", html)
    own = html_store.encode(FP, html, "", html + " ")
    assert len(own) - len(shared) > 1000


def test_a_marker_record_with_extra_bytes_or_cut_short_is_refused():
    record = html_store.encode(FP, "<p>a</p>", "<ul></ul>", "<p>a</p>")
    assert html_store._decode(record[:-1], FP) is None
    assert html_store._decode(record + b"x", FP) is None
    assert html_store._decode(record[: html_store._CHECK + 4], FP) is None


@pytest.mark.parametrize("most", [1, 7, 1 << 30])
def test_appended_records_read_back_whatever_the_kernel_writes_at_once(tmp_path, monkeypatch, most):
    """``writev`` may write less than asked: the rest still goes out, in order."""
    real = os.writev

    def short(fd, buffers):
        out, left = [], most
        for buffer in buffers:
            if left <= 0:
                break
            out.append(bytes(buffer[:left]))
            left -= len(out[-1])
        return real(fd, out)

    monkeypatch.setattr(html_store.os, "writev", short)
    monkeypatch.setattr(html_store, "_BATCH_RECORDS", 3)
    texts = [(f"<p>{i}" + "é" * (i * 37) + "</p>", "" if i % 2 else f"<ul>{i}</ul>", "") for i in range(40)]
    texts = [(h, t, h if i % 3 else h + "!") for i, (h, t, _) in enumerate(texts)]
    fingerprints = [f"{i:064x}" for i in range(40)]
    path = tmp_path / "store" / "html-1.blob"
    first = html_store.append(
        path, [html_store.encode(fp, *t) for fp, t in zip(fingerprints[:5], texts[:5], strict=True)]
    )
    rest = html_store.append(
        path, (html_store.encode(fp, *t) for fp, t in zip(fingerprints[5:], texts[5:], strict=True))
    )
    refs = first + rest
    assert path.stat().st_size == sum(ref.length for ref in refs)
    for ref, fp, t in zip(refs, fingerprints, texts, strict=True):
        assert ref.load(fp) == t


def test_a_damaged_store_gives_the_site_a_build_without_cache_gives(tmp_path, settings):
    content = write_corpus(tmp_path / "c", 40, seed=5)
    expected = _texts(read_cached(content, settings, NOW, use_cache=False))
    read_cached(content, settings, NOW)
    join_background()
    (blob,) = html_store.generations(cache_path(settings, content))
    data = bytearray(blob.read_bytes())
    for at in range(100, len(data), 997):  # damage many records, cut the last ones off
        data[at] ^= 0xFF
    blob.write_bytes(bytes(data[: len(data) * 3 // 4]))
    assert _texts(read_cached(content, settings, NOW)) == expected
    join_background()
    blob.write_bytes(b"not a store at all\n" * 50)  # a foreign file in its place
    assert _texts(read_cached(content, settings, NOW)) == expected
    join_background()


def test_an_earlier_format_cache_is_removed_not_read(content_dir, settings, write_update):
    write_update("one")
    folder = cache_path(settings, content_dir)
    for name in EARLIER_FORMATS:
        old = folder.parent.parent / name / "x"
        old.mkdir(parents=True)
        (old / "shard-0.pickle").write_bytes(b"goal17-content-cache 3\n")
    read_cached(content_dir, settings, NOW)
    join_background()
    assert not any((folder.parent.parent / name).exists() for name in EARLIER_FORMATS)
    assert folder.is_dir()


def test_thousands_of_small_records_go_out_in_writes_the_kernel_takes(tmp_path):
    """A ``writev`` takes at most 1,024 buffers: small records are batched by count too."""
    fingerprints = [f"{i:064x}" for i in range(3000)]
    path = tmp_path / "html-2.blob"
    refs = html_store.append(
        path, (html_store.encode(fp, f"<p>{i}</p>", "", "") for i, fp in enumerate(fingerprints))
    )
    assert [ref.load(fp) for ref, fp in zip(refs, fingerprints, strict=True)][-1] == ("<p>2999</p>", "", "")
    assert all(
        ref.load(fp)[0] == f"<p>{i}</p>" for i, (ref, fp) in enumerate(zip(refs, fingerprints, strict=True))
    )


def test_an_update_pickles_without_the_html_it_loaded_from_the_store(tmp_path, settings):
    content = write_corpus(tmp_path / "c", 3, seed=17)
    read_cached(content, settings, NOW)
    join_background()
    update = read_cached(content, settings, NOW).updates[0]
    join_background()
    assert "html" not in pickle.loads(pickle.dumps(update)).__dict__
    texts = (update.html, update.toc_html, update.feed_html)  # loaded into the instance now
    again = pickle.loads(pickle.dumps(update))
    assert "html" not in again.__dict__ and "_body" in again.__dict__
    assert (again.html, again.toc_html, again.feed_html) == texts
