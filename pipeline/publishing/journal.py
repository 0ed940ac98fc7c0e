"""The publish journal: a publish killed while moving files in is finished by the next one.

Before the first file is moved, the publish writes down everything it will do (which staged
files move in, in which order, which old files go, the manifest to write). Whoever takes the
folder's lock next rolls that forward (:func:`recover`), so a crash never leaves half a site.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.outputs import urls
from pipeline.publishing.manifest import Manifest, encode_json, stat_or_none
from pipeline.publishing.output_folder import MARKER, PublishError, check_paths, write_atomically


# Order in which changed files are moved into a live folder: what is linked to comes before what
# links to it (assets, then update pages, feeds, snippets, and the listings last).
def apply_order(rel: str) -> tuple[int, str]:
    if rel.startswith(urls.UPDATES):
        rank = 1
    elif rel.startswith(urls.FEEDS):
        rank = 2
    elif rel.startswith(urls.SNIPPETS):
        rank = 3
    elif rel.endswith(".html"):
        rank = 4
    else:
        rank = 0
    return rank, rel


def apply_moves(staging: Path, out: Path, written: list[str], removed: list[str]) -> None:
    """Move the staged files into ``out``, each with one atomic rename, then drop removed ones.

    Every file is replaced whole (a reader gets the old or the new bytes, never a mix), and in
    an order such that a new page never links to a file that is not there yet; removed files go
    last, after nothing links to them. Everything that can fail (making the files) has happened
    before the first rename, so a failed build leaves ``out`` as it was. Replacing the whole tree
    instead would mean re-creating ~10,000 folders per build for a 10,000-update site.

    Idempotent, so an interrupted run can simply be run again (:meth:`Journal.complete`): a file
    no longer in ``staging`` has been moved already, a removed file already gone is fine.
    """
    for rel in written:
        source = staging / rel
        if not os.path.lexists(source):
            continue  # moved before the interruption
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    folders: set[Path] = set()
    for rel in removed:
        with contextlib.suppress(FileNotFoundError):
            (out / rel).unlink()
        folders.update((out / rel).parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder != out and out in folder.parents:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
    shutil.rmtree(staging, ignore_errors=True)


JOURNAL_FORMAT = 1


def journal_path(out: Path) -> Path:
    """Beside the folder, like its lock: every publisher of the folder (the site build and the
    newsletter job, which may use different state folders) must find it."""
    return out.parent / f".{out.name}.journal"


@dataclass
class Journal:
    """Everything one publish will do to the output folder, written before it does any of it.

    ``tree``: the first publish, which renames the whole staging folder into place; otherwise
    ``written`` are moved from ``staging`` in this order and ``removed`` are deleted. Then the
    ``manifest`` is written to ``manifest_path`` and the journal is deleted.
    """

    staging: str
    tree: bool
    written: list[str]
    removed: list[str]
    manifest_path: str | None
    manifest: Manifest
    # The manifest's files as to_bytes encoded them, for complete() (None: encode them there).
    _files_text: str | None = field(default=None, repr=False, compare=False)

    def to_bytes(self) -> bytes:
        """The compact, key-sorted JSON of every field, the manifest as ``{"files","stamp"}``.

        Written by hand around the manifest's files (the one large part), whose text is kept
        for :meth:`complete` to write the manifest with: encoded once, not twice.
        """
        files = self._files_text = encode_json(self.manifest.files)
        rest = {
            "manifest_path": self.manifest_path,
            "removed": self.removed,
            "staging": self.staging,
            "tree": self.tree,
            "written": self.written,
        }
        # Sorted keys: "format" < "manifest" < "manifest_path" < … (rest's own keys, sorted).
        manifest = f'{{"files":{files},"stamp":{encode_json(self.manifest.stamp)}}}'
        return f'{{"format":{JOURNAL_FORMAT},"manifest":{manifest},{encode_json(rest)[1:]}'.encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Journal | None:
        try:
            data = json.loads(raw)
            if data.get("format") != JOURNAL_FORMAT:
                return None
            files = data["manifest"]["files"]
            stamp = data["manifest"]["stamp"]
            journal = cls(
                staging=str(data["staging"]),
                tree=bool(data["tree"]),
                written=[str(r) for r in data["written"]],
                removed=[str(r) for r in data["removed"]],
                manifest_path=None if data["manifest_path"] is None else str(data["manifest_path"]),
                manifest=Manifest(files=dict(files), stamp=stamp if isinstance(stamp, dict) else None),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        paths = {*journal.written, *journal.removed, *journal.manifest.files} - {MARKER}
        try:
            check_paths(dict.fromkeys(paths, b""))
        except PublishError:
            return None
        return journal

    def move_files(self, out: Path) -> None:
        """Do (or finish) the moves and removals; idempotent, so a killed run can run it again."""
        staging = Path(self.staging)
        if self.tree:
            if not out.exists() and staging.is_dir():
                os.rename(staging, out)  # the first publish: the staging tree is the whole site
            shutil.rmtree(staging, ignore_errors=True)
        else:
            apply_moves(staging, out, self.written, self.removed)

    def complete(self, out: Path) -> None:
        """Do (or finish) the moves and removals, write the manifest, drop the journal."""
        self.move_files(out)
        if self.manifest_path is not None:
            write_atomically(Path(self.manifest_path), self.manifest.to_bytes(self._files_text))
        journal_path(out).unlink(missing_ok=True)


_STAGING_NAME = re.compile(r"\.(?P<name>.+)\.staging-\d+")
_MANIFEST_NAME = re.compile(r"[0-9a-f]{32}\.json")


def _ours(journal: Journal, out: Path) -> bool:
    """Only a journal naming this folder's own staging folder and a manifest file of ours is
    acted on: a forged one must not move, delete or overwrite anything elsewhere."""
    staging = Path(journal.staging)
    match = _STAGING_NAME.fullmatch(staging.name)
    if staging.parent != out.parent or match is None or match["name"] != out.name:
        return False
    if journal.manifest_path is None:
        return True
    manifest = Path(journal.manifest_path)
    return _MANIFEST_NAME.fullmatch(manifest.name) is not None and manifest.parent.name == "outputs"


def interrupted(out_dir: str | Path) -> bool:
    """Was the last publish into ``out_dir`` interrupted while moving files in?"""
    return journal_path(Path(out_dir).absolute()).exists()


def recover(out: Path) -> bool:
    """Finish a publish into ``out`` that was killed after it began to move files (lock held).

    The journal is rolled forward: the files still in the killed build's staging folder are
    moved in, its removals are done, and its manifest is written, checked against the folder
    first so that it never lists a file that is not there as it recorded it. Returns whether
    there was anything to recover; the caller then compares against a walk of the whole folder,
    so that anything else left behind is found as well.
    """
    path = journal_path(out)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise PublishError(f"cannot read the publish journal {path}: {exc.strerror}") from None
    journal = Journal.from_bytes(raw)
    if journal is not None and not _ours(journal, out):
        journal = None
    if journal is None:  # unreadable (not written by us): forget it, the caller walks the folder
        path.unlink(missing_ok=True)
        return True
    journal.move_files(out)
    checked: dict[str, list] = {}
    for rel, record in journal.manifest.files.items():
        current = stat_or_none(out / rel, record[0])
        if current is not None:
            checked[rel] = record if current == record else [None, *current[1:]]
    done = Journal(
        journal.staging, False, [], [], journal.manifest_path, Manifest(checked, journal.manifest.stamp)
    )
    done.complete(out)  # writes the checked manifest and drops the journal
    return True


def remove_stale_staging(out: Path) -> None:
    """Staging folders left by a killed publish (the lock is held, so none is in use)."""
    for leftover in out.parent.glob(f".{out.name}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
