"""``_open_beneath`` opens the first component by its path from the root: the same files and the
same refusals as the walk from the root descriptor it replaced (kept here as the reference), on
a folder full of links, special files and missing parts, with roots that are links, files or
missing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pipeline.locale.cli import tr
from pipeline.reading import files
from pipeline.reading.files import UnsafeFile


def reference_open(root: str, rel: str) -> int:
    """``_open_beneath`` as it was: the root opened first, every component below it."""
    parts = rel.split("/")
    if not rel or any(part in ("", ".", "..") for part in parts):
        raise UnsafeFile(rel, tr("is not a path inside the content folder"))
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, files._DIR_FLAGS, dir_fd=folder)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(
                        rel, tr("lies in {folder}, which is a link or not a folder", folder=repr(part))
                    ) from None
                raise
            os.close(folder)
            folder = inner
        try:
            return os.open(parts[-1], files._FILE_FLAGS, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeFile(
                    rel,
                    files.refusal(os.stat(parts[-1], dir_fd=folder, follow_symlinks=False))
                    or tr("is a link"),
                ) from None
            raise
    finally:
        os.close(folder)


def _outcome(opener, root: str, rel: str) -> tuple:
    try:
        fd = opener(root, rel)
    except UnsafeFile as exc:
        return ("unsafe", exc.rel, exc.reason)
    except OSError as exc:
        return ("oserror", type(exc), exc.errno, exc.strerror)
    try:
        st = os.fstat(fd)
        return ("open", st.st_ino, st.st_mode, os.get_inheritable(fd), os.get_blocking(fd))
    finally:
        os.close(fd)


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "2026" / "deep").mkdir(parents=True)
    (root / "a.md").write_text("a")
    (root / "2026" / "b.md").write_text("b")
    (root / "2026" / "deep" / "c.md").write_text("c")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.md").write_text("s")
    (root / "link.md").symlink_to(tmp_path / "outside" / "secret.md")
    (root / "dangling.md").symlink_to(tmp_path / "nowhere")
    (root / "linked").symlink_to(tmp_path / "outside")
    (root / "2026" / "linked").symlink_to(tmp_path / "outside")
    (root / "2026" / "link.md").symlink_to(root / "a.md")
    os.mkfifo(root / "pipe.md")
    os.link(root / "a.md", root / "hard.md")
    (tmp_path / "root-link").symlink_to(root)
    (tmp_path / "plain-file").write_text("x")
    return tmp_path


RELS = [
    "a.md",
    "2026/b.md",
    "2026/deep/c.md",
    "link.md",
    "dangling.md",
    "linked/secret.md",
    "2026/linked/secret.md",
    "2026/link.md",
    "pipe.md",
    "hard.md",
    "missing.md",
    "2026/missing.md",
    "nope/x.md",
    "a.md/x.md",
    "2026",
    "2026/deep",
    "linked",
    "2026/linked",
    "",
    ".",
    "..",
    "../outside/secret.md",
    "2026/../a.md",
    "2026//b.md",
    "./a.md",
]


@pytest.mark.parametrize("rel", RELS)
@pytest.mark.parametrize(
    "root", ["content", "root-link", "plain-file", "missing", "content/", "content/2026"]
)
def test_same_file_or_same_refusal(hostile: Path, root: str, rel: str) -> None:
    base = str(hostile / root) if root else ""
    assert _outcome(files._open_beneath, base, rel) == _outcome(reference_open, base, rel)


@pytest.mark.parametrize("rel", ["a.md", "2026/b.md", "link.md", "missing.md"])
def test_relative_roots(hostile: Path, rel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(hostile / "content")
    for base in (".", "./", "../content", ""):
        assert _outcome(files._open_beneath, base, rel) == _outcome(reference_open, base, rel)
