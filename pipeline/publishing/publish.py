"""Publishing a build: stage every changed file, then move it into place.

A reader, a partner site or a crash never sees half a file, and a failed build never changes the
output folder: every file is made and written to a staging folder first. The first publish
renames the complete staging tree into place; later ones move each changed file in with one
atomic rename, in an order where nothing links to a file that is not there yet, and remove
deleted files last (see :func:`apply_moves`). Unchanged files are never touched: they keep their
bytes, inode and mtime (and so their HTTP ``Last-Modified``/ETag). When nothing changed at all,
nothing is touched. A manifest in the state folder remembers each file's input digest, size and
mtime, so a :class:`~pipeline.caching.deferred.Deferred` file whose inputs did not change is not even made.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.caching.deferred import Deferred, Output, materialize, prepare
from pipeline.forkpool import map_forked
from pipeline.publishing.journal import Journal, apply_order, journal_path, recover, remove_stale_staging
from pipeline.publishing.manifest import Manifest, read_manifest, stat_or_none, stat_record
from pipeline.publishing.output_folder import (
    MARKER,
    MARKER_TEXT,
    PublishError,
    check_paths,
    check_target,
    existing_files,
    folder_lock,
    old_files,
    os_reason,
    same_bytes,
    write_atomically,
)


@dataclass
class PublishReport:
    """What one publish did: files written (changed or new), kept as they were, removed."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def publish(
    out_dir: str | Path,
    files: Mapping[str, Output],
    preserve: Callable[[str], bool] | None = None,
    stamp: dict[str, Any] | None = None,
    manifest_path: str | Path | None = None,
    reuse: bool = True,
    progress: Callable[[int, int], None] | None = None,
    read_before: Manifest | None = None,
) -> PublishReport:
    """Make ``out_dir`` hold exactly ``files`` (plus preserved old files), atomically.

    ``preserve(path)`` marks old files another job owns (e.g. newsletter archives during a site
    build): they are carried over unless ``files`` replaces them. A :class:`Deferred` file whose
    key equals the one recorded in the folder's manifest by the previous publish (and whose file
    is untouched since) is kept without being made; every other file is made and written to the
    staging folder at once, so memory holds one file at a time.

    The manifest lives at ``manifest_path`` (in the state folder, so two builds into different
    folders stay byte-identical) and is written after the swap. A stale manifest is harmless:
    reuse also requires each file's size and mtime to match, which a rewritten file never does.
    ``stamp`` is stored in it for the caller (the build's record of its inputs); without one the
    old stamp is kept. ``reuse=False`` ignores the manifest and makes every file.
    ``read_before``: the manifest as the caller read it before the lock was taken, used if the
    file is still the one it was read from (:func:`~pipeline.publishing.manifest.read_manifest`).
    """
    out = Path(out_dir).absolute()
    check_paths(files)
    check_target(out)  # before anything is created beside it: a refused folder gets no lock file
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create the folder {out.parent}: {os_reason(exc)}") from None
    with folder_lock(out):
        check_target(out)
        recovered = recover(out)
        manifest = read_manifest(manifest_path, read_before) if manifest_path is not None else None
        known = manifest.files if (manifest is not None and reuse) else {}
        # After an interrupted publish, look at what is really there (not the manifest's list),
        # so nothing the killed build moved in can stay behind as an orphan.
        old = existing_files(out) if recovered and out.is_dir() else old_files(out, known)
        report = PublishReport()
        wanted: dict[str, Output] = dict(files)
        wanted[MARKER] = MARKER_TEXT
        carried = sorted(r for r in old if r not in wanted and preserve is not None and preserve(r))
        remove_stale_staging(out)
        staging: Path | None = None
        moving = False  # the journal is written: from here on the publish is rolled forward
        keep: list[str] = []
        entries: dict[str, list] = {}
        try:
            todo = _unchanged(wanted, old, known, out, keep, entries)
            if todo:
                prepare([wanted[rel] for rel in todo], reuse)  # shared parts, before the pool forks
                staging = _new_staging(out)
                for done, (rel, written, record) in enumerate(_make_all(todo, wanted, old, staging), 1):
                    if progress is not None:
                        progress(done, len(todo))
                    entries[rel] = record
                    (report.written if written else keep).append(rel)
            for rel in carried:
                keep.append(rel)
                record = known.get(rel)
                current = stat_or_none(old[rel], record[0] if record else None)
                if current is None:
                    continue  # listed in the manifest but gone: nothing to carry
                entries[rel] = record if current == record else [None, *current[1:]]
            report.unchanged = len(keep)
            report.removed = sorted(rel for rel in old if rel not in wanted and rel not in carried)
            new_manifest = Manifest(
                files=entries, stamp=stamp if stamp is not None else (manifest.stamp if manifest else None)
            )
            if out.exists() and not report.written and not report.removed:
                if staging is not None:
                    shutil.rmtree(staging)
                if manifest_path is not None and manifest != new_manifest:
                    write_atomically(Path(manifest_path), new_manifest.to_bytes())
                return report
            if staging is None:
                staging = _new_staging(out)
            journal = Journal(
                staging=str(staging),
                tree=not out.exists(),
                written=sorted(report.written, key=apply_order),
                removed=report.removed,
                manifest_path=str(manifest_path) if manifest_path is not None else None,
                manifest=new_manifest,
            )
            # From here on the publish is rolled forward, never back: the journal names every
            # move and removal, and whoever takes the lock next finishes them (see recover).
            write_atomically(journal_path(out), journal.to_bytes())
            staging = None
            moving = True
            journal.complete(out)
        except OSError as exc:  # a full disk, a folder we may not write: one line, not a traceback
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if not moving:
                raise PublishError(f"cannot write the new files: {os_reason(exc)}") from None
            raise PublishError(
                f"publishing into {out} was interrupted: {os_reason(exc)}; the next build completes it"
            ) from None
        except BaseException:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        return report


def _unchanged(
    wanted: Mapping[str, Output],
    old: Mapping[str, str],
    known: Mapping[str, list],
    out: Path,
    keep: list[str],
    entries: dict[str, list],
) -> list[str]:
    """Sort ``wanted`` into files kept as they are (added to ``keep`` and ``entries``) and the
    files to make, which are returned in path order.

    A file is kept when it is :class:`Deferred` with the key the manifest recorded and is
    still there with the size and mtime recorded (what ``stat_or_none(path, key) == record``
    says, without building a list per file). Only the files to make are sorted (12,000 paths
    were), and the files are looked up relative to the folder (``dir_fd``), so the kernel walks
    three path components per file instead of the folder's whole path again.
    """
    todo: list[str] = []
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY) if old else None  # old: out is a folder
    stat = os.stat
    try:
        for rel, item in wanted.items():
            record = known.get(rel)
            if record is not None and isinstance(item, Deferred) and record[0] == item.key and rel in old:
                try:
                    st = stat(rel, dir_fd=fd)  # old[rel] is always f"{out}/{rel}"
                except OSError:
                    todo.append(rel)
                    continue
                if st.st_size == record[1] and st.st_mtime_ns == record[2]:
                    keep.append(rel)
                    entries[rel] = record
                    continue
            todo.append(rel)
    finally:
        if fd is not None:
            os.close(fd)
    todo.sort()
    return todo


def _make_all(
    todo: list[str], wanted: Mapping[str, Output], old: dict[str, str], staging: Path
) -> Iterator[tuple[str, bool, list]]:
    """Make each file in ``todo`` and write it to ``staging`` unless it equals the old one.

    Yields ``(path, written, manifest record)`` in ``todo`` order. A cold 10,000-update build
    makes ~12,000 pages and feeds: they are made on both cores, each worker writing its files.
    ``folders`` is each process's own record of the staging folders it has made or seen (a
    forked worker adds to its copy), so each new folder costs one ``mkdir``.
    """
    root = str(staging)
    folders = {root}
    return map_forked(
        lambda index: _make(todo[index], wanted[todo[index]], old.get(todo[index]), root, folders),
        len(todo),
    )


def _make(
    rel: str, item: Output, old_path: str | None, staging: str, folders: set[str]
) -> tuple[str, bool, list]:
    key = item.key if isinstance(item, Deferred) else None
    data = materialize(item)
    if old_path is not None and same_bytes(old_path, data):
        return rel, False, stat_record(old_path, key)
    return rel, True, [key, *_write_new(f"{staging}/{rel}", data, folders)]


def _write_new(path: str, data: bytes, folders: set[str]) -> tuple[int, int]:
    """Create ``path`` (and its folder) holding ``data``; its (size, mtime_ns).

    Plain os calls: a cold build creates ~12,000 files in ~10,000 new folders (one per update
    page). A folder not in ``folders`` is made with one ``mkdir`` before the file is opened;
    trying the ``open`` first and calling ``os.makedirs`` when it failed cost a failed lookup,
    a ``stat`` and the Python of ``makedirs`` for every page (0.1 s of CPU at 10,000 updates).
    """
    folder = path.rpartition("/")[0]
    if folder not in folders:
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass  # made by the other worker, or by an earlier file's makedirs
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return st.st_size, st.st_mtime_ns


def _new_staging(out: Path) -> Path:
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging
