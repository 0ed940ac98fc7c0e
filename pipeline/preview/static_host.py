"""Serving the output folder safely: URL path → a file inside it, read without following links.

The rules are plain functions and one small class, so any server reuses them unchanged
(``python -m pipeline serve`` runs the subscription service's app, :mod:`pipeline.web.static`;
the headers it sends are in :mod:`pipeline.preview.http_headers`):

* :func:`resolve_path` — URL path → file inside the root, refusing traversal, hidden files and
  symbolic links; :func:`read_inside` reads it with ``O_NOFOLLOW`` on every step;
* :func:`folder_location` — the only ``Location`` it sends: a same-origin path (``/x/``, never
  ``//x/``) built from the decoded, normalised path;
* :class:`StaticSite` — the folder as resources, with strong ETags cached per file version.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from urllib.parse import quote, unquote, urlsplit

from pipeline.preview.http_headers import strong_etag


class Redirect(Exception):
    """A folder asked for without its trailing slash; ``location`` is a same-origin path."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


# Characters a path segment may keep unencoded in a Location (RFC 3986 pchar minus "%"): never
# "/" or "\", so an encoded segment cannot start a second slash and make the path protocol-relative.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
_QUERY_SAFE = _SEGMENT_SAFE + "/?%"


def folder_location(segments: list[str]) -> str:
    """The canonical path of a folder: ``/`` + percent-encoded segments + ``/``.

    Built from the decoded, normalised segments, never from the request as sent, so
    ``/%2fupdates`` gives ``/updates/`` (not ``//updates/``, which a browser reads as the host
    ``updates``). Every segment is non-empty and has its slashes and backslashes encoded: the
    result always starts with exactly one ``/`` followed by a character that is neither.
    """
    if not segments:
        return "/"
    return "/" + "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments) + "/"


def with_query(location: str, query: str) -> str:
    """``location`` plus the request's query, re-encoded so no control character or space remains."""
    return location + ("?" + quote(query, safe=_QUERY_SAFE) if query else "")


def _request_path(url_path: str) -> str | None:
    """The path of a request target (origin form ``/p?q`` or absolute form ``http://h/p``)."""
    if url_path.startswith("/"):
        # Not urlsplit: it would read "//evil.example/x" as a host and the path "/x".
        return url_path.split("?", 1)[0].split("#", 1)[0]
    parts = urlsplit(url_path)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return parts.path or "/"
    return None


def _segments(url_path: str) -> tuple[str, list[str]] | None:
    raw = _request_path(url_path)
    if raw is None:
        return None
    path = unquote(raw)
    if not path.startswith("/") or any(ord(c) < 0x20 or c in "\\\x7f" for c in path):
        return None
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if any(s == ".." or s.startswith(".") for s in segments):
        return None
    return path, segments


def _walk(base: Path, segments: list[str]) -> os.stat_result | None:
    """``lstat`` of the file at ``segments`` under ``base``, or None if it or a folder on the way
    is a symbolic link, is missing, or is not a regular file or folder."""
    current = base
    info = None
    for segment in segments:
        current = current / segment
        try:
            info = current.lstat()
        except (OSError, ValueError):
            return None
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            return None  # symbolic links, sockets, fifos, devices
    return info if info is not None else base.stat()


def resolve_path(root: Path, url_path: str) -> tuple[Path, str] | None:
    """URL path → (file, site-relative path), or None when nothing may be served.

    ``..`` segments, NUL and other control characters, backslashes and hidden names are refused
    before touching the disk. Nothing that is a symbolic link (or lies under one) is served, nor a
    file with more than one hard link (it may be the same inode as a file elsewhere), and the
    result must lie inside ``root`` once resolved. A folder asked for without its trailing slash
    raises :class:`Redirect` to :func:`folder_location` (so relative links work).
    """
    parsed = _segments(url_path)
    if parsed is None:
        return None
    path, segments = parsed
    base = root.resolve()
    info = _walk(base, segments)
    if info is None:
        return None
    candidate = base.joinpath(*segments)
    try:
        real = Path(os.path.realpath(candidate, strict=True))
    except (OSError, RuntimeError, ValueError):
        return None
    if not real.is_relative_to(base):
        return None
    rel = "/".join(segments)
    if stat.S_ISDIR(info.st_mode):
        if not path.endswith("/"):
            raise Redirect(folder_location(segments))
        segments = [*segments, "index.html"]
        rel = f"{rel}/index.html" if rel else "index.html"
        info = _walk(base, segments)
        if info is None:
            return None
        real = real / "index.html"
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        return None
    return real, rel


def read_inside(root: Path, path: Path) -> tuple[bytes, os.stat_result]:
    """Read ``path`` (a result of :func:`resolve_path`) without following any symbolic link.

    Each folder from ``root`` down is opened with ``O_NOFOLLOW`` relative to its parent, and the
    file too, so a link swapped in after :func:`resolve_path` checked the path is refused
    (``OSError``) instead of followed. The file must still be a regular file with one link.
    """
    base = root.resolve()
    parts = path.relative_to(base).parts if path.is_relative_to(base) else ()
    if not parts:
        raise OSError(f"not a file inside {base}: {path}")
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(base, flags_dir)
    try:
        for part in parts[:-1]:
            child = os.open(part, flags_dir, dir_fd=fd)
            os.close(fd)
            fd = child
        file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    with os.fdopen(file_fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise OSError(f"not a regular file with one link: {path}")
        return handle.read(), info


@dataclass(frozen=True)
class _Cached:
    key: tuple[int, int]  # (mtime_ns, size)
    etag: str


class StaticSite:
    """The output folder as HTTP resources; ETags cached per (file, mtime, size)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._etags: dict[Path, _Cached] = {}
        self._lock = Lock()

    def read(self, path: Path) -> tuple[bytes, str, float]:
        """(bytes, strong ETag, mtime) of a file under the root."""
        data, info = read_inside(self.root, path)
        key = (info.st_mtime_ns, info.st_size)
        with self._lock:
            cached = self._etags.get(path)
            if cached is None or cached.key != key:
                cached = _Cached(key, strong_etag(data))
                self._etags[path] = cached
        return data, cached.etag, info.st_mtime
