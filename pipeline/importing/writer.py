"""Putting the imported files into the content folder all together, or not at all.

Every file is first written to a hidden staging folder inside the content folder (same
filesystem; its leading dot keeps builds from reading it), then each is hard-linked to its
final name. A link never replaces an existing file, so a file that appeared meanwhile is never
overwritten: the import then fails and every file it had already placed is removed again. An
interrupted import leaves at most the staging folder, which builds ignore.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.importing.model import ImportFailed


def write_all(content_dir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` (content-relative path -> bytes) into ``content_dir``; all or nothing."""
    made_dirs: list[Path] = []
    placed: list[Path] = []
    stage: Path | None = None
    final = content_dir
    try:
        for folder in reversed([content_dir, *content_dir.parents]):
            if not folder.exists():
                folder.mkdir()
                made_dirs.append(folder)
        stage = Path(tempfile.mkdtemp(prefix=".import-", dir=content_dir))
        for rel, data in files.items():
            staged = stage / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            with open(staged, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for rel in files:
            final = content_dir / rel
            for parent in reversed(final.relative_to(content_dir).parents[:-1]):
                folder = content_dir / parent
                if not folder.exists():
                    folder.mkdir()
                    made_dirs.append(folder)
            _place(stage / rel, final)
            placed.append(final)
    except BaseException as exc:  # an error, or Ctrl-C: take back everything placed so far
        for path in placed:
            path.unlink(missing_ok=True)
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        for folder in reversed(made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if not isinstance(exc, OSError):
            raise
        if exc.errno == errno.EEXIST:
            raise ImportFailed(f"{final} appeared during the import; nothing was written") from None
        raise ImportFailed(
            f"cannot write {exc.filename or final}: {exc.strerror or exc}; nothing was written"
        ) from None
    shutil.rmtree(stage, ignore_errors=True)
    return placed


def _place(staged: Path, final: Path) -> None:
    try:
        os.link(staged, final)  # fails with EEXIST instead of replacing
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A filesystem without hard links: exclusive create, then copy.
        with open(final, "xb") as handle:
            try:
                handle.write(staged.read_bytes())
            except BaseException:
                final.unlink(missing_ok=True)
                raise
