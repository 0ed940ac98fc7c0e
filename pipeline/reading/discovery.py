"""Walking the content folder: which files are updates and assets, and reading each one safely.

Links, hard-linked files and special files are refused (:mod:`pipeline.reading.files`); each is
a problem like any other, so nothing is published while one is there.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config.site import Settings
from pipeline.locale.cli import tr
from pipeline.reading import frontmatter
from pipeline.reading.files import Found, UnsafeFile, discover, read_beneath
from pipeline.reading.model import ContentError, Problem, Source
from pipeline.reading.validation import decode_text, read_source


def discover_content(
    root: Path, problems: list[Problem], found: Found | None = None
) -> tuple[list[tuple[str, os.stat_result]], dict[str, Path], dict[str, int]]:
    """Markdown files (with their stats), assets and their sizes, skipping names starting with . or _.

    Links, hard-linked files and special files are refused (:mod:`pipeline.reading.files`):
    each is an error, so nothing is published while one is there. ``found``: the walk, when the
    caller made it already.
    """
    if found is None:
        found = discover(root)
    for refused in found.refused:
        line = 1 if refused.rel.lower().endswith(".md") else 0
        problems.append(
            Problem(refused.rel, line, tr("{path} {reason}", path=refused.rel, reason=refused.reason))
        )
    assets = {rel: path for rel, (path, _st) in found.assets.items()}
    return found.markdown, assets, {rel: st.st_size for rel, (_path, st) in found.assets.items()}


def parse_file(
    root: Path, rel: str, settings: Settings, limit: int
) -> tuple[Source | None, tuple[Problem, ...]]:
    """One file read and parsed, with its own problems (None when it cannot be used)."""
    problems: list[Problem] = []
    try:
        data = read_beneath(root, rel, limit)
    except UnsafeFile as exc:
        line = 1 if rel.lower().endswith(".md") else 0
        message = (
            tr(
                "{path} {reason} (raise [content] max_update_bytes in site.toml if it must be)",
                path=rel,
                reason=exc.reason,
            )
            if exc.too_large
            else tr("{path} {reason}", path=rel, reason=exc.reason)
        )
        return None, (Problem(rel, line, message),)
    except OSError as exc:
        return None, (Problem(rel, 1, tr("cannot read {path}: {reason}", path=rel, reason=exc.strerror)),)
    source = read_source(rel, data, settings, problems)
    return source, tuple(problems)


def read_again(root: Path, rel: str, limit: int) -> bytes:
    """A cached file's bytes, read as safely as the first time."""
    try:
        return read_beneath(root, rel, limit)
    except UnsafeFile as exc:
        raise ContentError([Problem(rel, 1, tr("{path} {reason}", path=rel, reason=exc.reason))]) from None
    except OSError as exc:
        raise ContentError(
            [Problem(rel, 1, tr("cannot read {path}: {reason}", path=rel, reason=exc.strerror))]
        ) from None


def body_of(data: bytes) -> str:
    """The Markdown body of a file that was valid when it was cached."""
    return frontmatter.split(decode_text(data)).body
