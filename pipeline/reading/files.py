"""Finding and reading the files of a content folder without ever leaving it.

Whatever the content folder holds is published: a symbolic link ``media/env.txt ->
/proc/self/environ`` would copy the build user's environment (with its secrets) onto the web
site, and a hard link to a file elsewhere would do the same without looking like a link. So the
folder is walked without following links, and every symbolic link, every file with more than one
hard link and everything that is not a plain file or folder (device, pipe, socket) is refused
with a ``path:line`` problem: the build stops before anything is published.

Checking names first and opening them later would leave a window in which a folder or file is
swapped for a link. :func:`read_beneath` therefore opens the file again one path component at a
time, each with ``O_NOFOLLOW`` relative to the folder opened before it, and checks with
``fstat`` on the open descriptor that it is still a plain file with one link: what is read is
what was checked.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from pipeline.locale.cli import tr

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a pipe swapped in after the walk must not wait for a writer.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UnsafeFile(Exception):
    """A content file that must not be published; ``str()`` is the reason, without the path."""

    def __init__(self, rel: str, reason: str, too_large: bool = False):
        super().__init__(rel, reason)
        self.rel = rel
        self.reason = reason  # in the terminal's language (pipeline.locale.cli)
        self.too_large = too_large  # a setting can allow it: the caller says which

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Refused:
    """An entry found while walking the folder that is not published, and why."""

    rel: str
    reason: str


@dataclass
class Found:
    markdown: list[tuple[str, os.stat_result]]  # sorted by path
    assets: dict[str, tuple[Path, os.stat_result]]  # sorted by path
    refused: list[Refused]


def refusal(st: os.stat_result) -> str | None:
    """Why an entry with these (``lstat``) stats is not published, or None when it may be."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return tr(
            "is a symbolic link: links are not published (copy the file into the content folder instead)"
        )
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        return tr("is not a plain file (a device, pipe or socket): not published")
    if st.st_nlink > 1:
        return tr(
            "has {links} hard links: a file linked to from elsewhere is not published (make it a copy of its own)",
            links=st.st_nlink,
        )
    return None


# Files a browser runs as script on the site's origin (HTML, XHTML, SVG, XML with a style sheet,
# JavaScript) or a web server may run as a program: the sanitizer keeps script out of every
# update, so an asset must not bring it in by the side door. Refused, with the reason.
ACTIVE_SUFFIXES = frozenset(
    [
        ".html",
        ".htm",
        ".xhtml",
        ".xht",
        ".shtml",
        ".svg",
        ".svgz",
        ".xml",
        ".xsl",
        ".xslt",
        ".js",
        ".mjs",
        ".cjs",
        ".swf",
        ".php",
        ".phtml",
        ".php3",
        ".php4",
        ".php5",
        ".phar",
        ".cgi",
        ".pl",
        ".asp",
        ".aspx",
        ".jsp",
    ]
)


def version(st: os.stat_result) -> str:
    """What identifies a file's version without reading it, as make and git's index do: any
    write changes its size or mtime and its ctime (a rewrite that keeps size and mtime, as
    ``rsync -t`` or ``touch -r`` leave it, still moves the ctime), a replacement its inode.
    The build stamp and the content cache's keys both use it, so neither can miss what the
    other sees."""
    return f"{st.st_mode}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def active_reason(name: str) -> str | None:
    """Why a file with this name is not published as an asset (see ACTIVE_SUFFIXES), or None."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix in ACTIVE_SUFFIXES:
        return tr(
            "is a {suffix} file, which a browser or web server can run: not published "
            "(use PNG, JPEG, WebP, GIF or PDF; write pages as Markdown updates)",
            suffix=suffix,
        )
    return None


def discover(root: Path) -> Found:
    """Markdown files and assets under ``root``, skipping names that start with ``.`` or ``_``.

    Walks with ``lstat`` only, so no link is followed; refused entries are listed, not skipped
    silently, so an author learns why a file did not appear.
    """
    found = Found(markdown=[], assets={}, refused=[])
    pending = [""]
    top = str(root)
    while pending:
        base = pending.pop()
        folder = os.path.join(top, base) if base else top
        try:
            # Listed through a descriptor: each entry's lstat is then an fstatat relative to it,
            # a third cheaper than resolving the whole path again (10,000 files per build).
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            found.refused.append(Refused(base or ".", tr("cannot be read: {reason}", reason=exc.strerror)))
            continue
        try:
            with os.scandir(fd) as listing:
                entries = sorted(listing, key=_name)
            for entry in entries:
                name = entry.name
                if name[0] in "._":  # a name is never empty
                    continue
                rel = f"{base}/{name}" if base else name
                st = entry.stat(follow_symlinks=False)
                mode = st.st_mode
                if S_ISREG(mode) and st.st_nlink <= 1:  # nearly every entry: refusal() would say None
                    if name.lower().endswith(".md"):
                        found.markdown.append((rel, st))
                    elif (reason := active_reason(name)) is not None:
                        found.refused.append(Refused(rel, reason))
                    else:
                        found.assets[rel] = (Path(folder, name), st)
                elif S_ISDIR(mode):
                    pending.append(rel)
                else:  # a link, a special file or a file with more hard links: refusal() says why
                    found.refused.append(Refused(rel, refusal(st) or ""))
        except OSError as exc:
            found.refused.append(Refused(base or ".", tr("cannot be read: {reason}", reason=exc.strerror)))
        finally:
            os.close(fd)
    found.markdown.sort(key=lambda item: item[0])
    found.assets = dict(sorted(found.assets.items()))
    found.refused.sort(key=lambda item: item.rel)
    return found


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def read_beneath(root: str | Path, rel: str, limit: int | None = None) -> bytes:
    """The bytes of ``root/rel``, opened without following any link below ``root``.

    Raises :class:`UnsafeFile` when a component is a link, the file is not a plain file with one
    link, or it is larger than ``limit`` bytes; :class:`OSError` for other failures (gone,
    unreadable).
    """
    fd = _open_beneath(str(root), rel)
    try:
        st = os.fstat(fd)
        if S_ISDIR(st.st_mode):  # what os.fdopen said of a folder, word for word
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        reason = refusal(st)
        if reason is None and not stat.S_ISREG(st.st_mode):
            reason = tr("is a folder, not a file")
        if reason is not None:
            raise UnsafeFile(rel, reason)
        if limit is not None and st.st_size > limit:
            raise UnsafeFile(
                rel, tr("is {size} bytes, more than the {limit} allowed", size=st.st_size, limit=limit), True
            )
        data = _read_all(fd, st.st_size, None if limit is None else limit + 1)
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:  # grew while we were reading it
        raise UnsafeFile(rel, tr("is more than the {limit} bytes allowed", limit=limit), True)
    return data


def _read_all(fd: int, size: int, most: int | None) -> bytes:
    """The bytes from ``fd`` until its end, or its first ``most`` bytes.

    Plain ``os.read`` calls, the first asking for the size ``fstat`` gave plus one: a
    ``BufferedReader.read(limit + 1)`` allocated its ``limit``-sized buffer for every file
    (35 µs of a file's 42, a third of a second of CPU in a 10,000-update build). Reading goes on
    until the end of the file (an empty read, or a short read that ends it at the size ``fstat``
    gave: a plain file reads short only at its end), so a file that grew meanwhile is read whole,
    as before; ``most`` stops it one byte past the limit, which the caller then refuses.
    """
    chunks: list[bytes] = []
    total = 0
    ask = size + 1
    while most is None or total < most:
        want = ask if most is None else min(ask, most - total)
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if len(chunk) < want and size == total:
            break  # a plain file's short read is its end, here the size fstat gave: no empty read
        ask = 1 << 16
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _open_beneath(root: str, rel: str) -> int:
    """A descriptor of ``root/rel`` opened one component at a time without following links.

    The first component is opened by its path from the root (the root's own path is followed,
    as the root's ``open`` always did; ``O_NOFOLLOW`` applies to that last component): one
    ``open`` and ``close`` fewer per file, the root's, for 10,000 files a build. When that
    fails, the walk from the root tells why, in the words it always used.
    """
    parts = rel.split("/")
    if not rel or "" in parts or "." in parts or ".." in parts:
        raise UnsafeFile(rel, tr("is not a path inside the content folder"))
    if root:
        try:
            first = os.open(f"{root}/{parts[0]}", _DIR_FLAGS if len(parts) > 1 else _FILE_FLAGS)
        except OSError:
            pass
        else:
            return first if len(parts) == 1 else _walk(first, rel, parts[1:])
    return _walk(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), rel, parts)


def _walk(folder: int, rel: str, parts: list[str]) -> int:
    """Open ``parts`` one by one below the open ``folder`` (closed here); the last is the file."""
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=folder)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(
                        rel, tr("lies in {folder}, which is a link or not a folder", folder=repr(part))
                    ) from None
                raise
            os.close(folder)
            folder = inner
        try:
            return os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeFile(
                    rel, refusal(os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)) or tr("is a link")
                ) from None
            raise
    finally:
        os.close(folder)
