"""The manifest a publish leaves in the state folder: per file (input key, size, mtime) and a stamp.

It lets a :class:`~pipeline.caching.deferred.Deferred` file whose inputs did not change be kept
without being made, and lets a build whose inputs did not change be skipped altogether.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = 1


@dataclass
class Manifest:
    """What the last publish put in a folder: per file (key, size, mtime), and the caller's stamp."""

    files: dict[str, list]
    stamp: dict[str, Any] | None = None

    def to_bytes(self) -> bytes:
        data = {"format": MANIFEST_FORMAT, "stamp": self.stamp, "files": self.files}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


def read_manifest(path: str | Path) -> Manifest | None:
    """The manifest at ``path``, or None when it is missing or not one we can trust."""
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, list) and len(v) == 3 for v in files.values()):
        return None
    stamp = data.get("stamp")
    return Manifest(files=files, stamp=stamp if isinstance(stamp, dict) else None)


def manifest_intact(out_dir: str | Path, manifest: Manifest) -> bool:
    """Is every file the manifest lists still there with the size and mtime it had? (stat only)"""
    root = Path(out_dir)
    for rel, (_key, size, mtime) in manifest.files.items():
        try:
            st = os.stat(root / rel)
        except OSError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
    return True


def stat_record(path: str | Path, key: str | None) -> list:
    """A manifest record for the file at ``path``: ``[key, size, mtime_ns]``."""
    st = os.stat(path)
    return [key, st.st_size, st.st_mtime_ns]


def stat_or_none(path: str | Path, key: str | None) -> list | None:
    """:func:`stat_record`, or None when the file is gone."""
    try:
        return stat_record(path, key)
    except OSError:
        return None
