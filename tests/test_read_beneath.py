"""``read_beneath`` reads with plain ``os.read`` calls: the same bytes and refusals as before.

The former version read through ``os.fdopen(...).read(limit + 1)`` (kept here as the reference);
both are compared on the example content, the Markdown fixtures, benchmark corpora of two seeds
and generated files of every size around the limit, including empty files and files larger
than one ``os.read`` chunk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from pipeline.locale.cli import tr
from pipeline.reading import files
from pipeline.reading.files import UnsafeFile, read_beneath
from tests.conftest import REPO


def reference_read(root: str | Path, rel: str, limit: int | None = None) -> bytes:
    """``read_beneath`` as it was before it used ``os.read``."""
    fd = files._open_beneath(str(root), rel)
    with os.fdopen(fd, "rb", closefd=True) as handle:
        st_ = os.fstat(handle.fileno())
        reason = files.refusal(st_)
        if reason is None and not stat.S_ISREG(st_.st_mode):
            reason = tr("is a folder, not a file")
        if reason is not None:
            raise UnsafeFile(rel, reason)
        if limit is not None and st_.st_size > limit:
            raise UnsafeFile(
                rel, tr("is {size} bytes, more than the {limit} allowed", size=st_.st_size, limit=limit), True
            )
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise UnsafeFile(rel, tr("is more than the {limit} bytes allowed", limit=limit), True)
    return data


def _outcome(read, root: Path, rel: str, limit: int | None) -> tuple:
    try:
        return ("ok", read(root, rel, limit))
    except UnsafeFile as exc:
        return ("unsafe", exc.rel, exc.reason, exc.too_large)
    except OSError as exc:
        return ("oserror", type(exc), exc.errno)


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("limit", [None, 1 << 20, 3000, 0])
def test_real_files_read_the_same(tmp_path: Path, limit: int | None) -> None:
    write_corpus(tmp_path / "c17", 60, seed=17)
    write_corpus(tmp_path / "c5", 60, seed=5)
    roots = [REPO / "content", REPO / "tests" / "data", tmp_path / "c17", tmp_path / "c5"]
    compared = 0
    for root in roots:
        for rel in _all_files(root):
            assert _outcome(read_beneath, root, rel, limit) == _outcome(reference_read, root, rel, limit), rel
            compared += 1
    assert compared > 150


def test_folders_and_missing_files_refused_the_same(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "f.md").write_bytes(b"x")
    for rel in ["a", "a/b", "missing.md", "a/missing.md", "a/f.md/x", "../a", "a//f.md", ""]:
        for limit in (None, 10):
            assert _outcome(read_beneath, tmp_path, rel, limit) == _outcome(
                reference_read, tmp_path, rel, limit
            )


@settings(max_examples=80, deadline=None)
@given(
    size=st.one_of(st.integers(0, 40), st.integers(65_000, 140_000)),
    slack=st.integers(-3, 3),
    unlimited=st.booleans(),
    byte=st.binary(min_size=1, max_size=7),
)
def test_every_size_around_the_limit(
    tmp_path_factory, size: int, slack: int, unlimited: bool, byte: bytes
) -> None:
    root = tmp_path_factory.mktemp("sizes")
    data = (byte * (size // len(byte) + 1))[:size]
    (root / "f.md").write_bytes(data)
    limit = None if unlimited else max(0, size + slack)
    got = _outcome(read_beneath, root, "f.md", limit)
    assert got == _outcome(reference_read, root, "f.md", limit)
    if got[0] == "ok":
        assert got[1] == data


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 70_000),
    shrink=st.integers(0, 70_000),
    limit=st.one_of(st.none(), st.integers(0, 70_000)),
)
def test_a_file_that_grew_after_fstat(tmp_path_factory, size: int, shrink: int, limit: int | None) -> None:
    """``fstat`` reporting fewer bytes than the file holds (it grew meanwhile): read to its end,
    and refused when that is past the limit, as before."""
    root = tmp_path_factory.mktemp("grew")
    (root / "f.md").write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    real_fstat = os.fstat

    def smaller(fd: int) -> os.stat_result:
        found = list(real_fstat(fd))
        found[stat.ST_SIZE] = max(0, found[stat.ST_SIZE] - shrink)
        return os.stat_result(found)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fstat", smaller)
        got = _outcome(read_beneath, root, "f.md", limit)
        assert got == _outcome(reference_read, root, "f.md", limit)
