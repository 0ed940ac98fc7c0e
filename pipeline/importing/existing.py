"""What the content folder already holds, so an import never overwrites a file or repeats an id."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config.site import Settings
from pipeline.reading import frontmatter, ids
from pipeline.reading.slugs import slugify


@dataclass
class Existing:
    ids: dict[str, str] = field(default_factory=dict)  # canonical id -> file (content-relative)
    slugs: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)  # every file, case-folded (for case-insensitive disks)

    def taken(self, rel: str) -> bool:
        return rel.casefold() in self.paths


def scan(root: Path, settings: Settings) -> Existing:
    """Ids, slugs and file names under ``root``; files that do not parse are `check`'s business."""
    found = Existing()
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for name in sorted(filenames):
            rel = name if base == "." else f"{base}/{name}"
            found.paths.add(rel.casefold())
            hidden = any(part.startswith((".", "_")) for part in rel.split("/"))
            if hidden or not name.lower().endswith(".md"):
                continue
            stem = posixpath.splitext(name)[0]
            try:
                text = (Path(dirpath) / name).read_text(encoding="utf-8-sig")
                meta = frontmatter.split(text.replace("\r\n", "\n")).meta
            except (OSError, UnicodeDecodeError, frontmatter.FrontMatterError):
                found.slugs.add(slugify(stem))
                continue
            slug = meta.get("slug")
            found.slugs.add(slugify(slug.value if slug and isinstance(slug.value, str) else stem))
            written = meta.get("id")
            if written is not None and isinstance(written.value, str):
                canonical = ids.canonical_id(written.value.strip(), settings.tag_authority)
                if canonical:
                    found.ids.setdefault(canonical, rel)
    return found
