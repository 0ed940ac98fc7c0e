"""A static preview server for the output folder, with the headers the real host should send.

:func:`make_server` is a standard-library server (``ThreadingHTTPServer``) for the output folder.
The HTTP rules themselves are plain functions, so another server reuses them unchanged:
``python -m pipeline serve`` runs the subscription service's app (:mod:`pipeline.web`), which
serves every non-service path with these same functions.

* :func:`media_type` — ``application/rss+xml``, ``application/atom+xml``,
  ``application/feed+json``, ``application/json``, … with ``charset=utf-8`` on text types;
* :func:`strong_etag` — a strong validator from the content hash (the bytes decide, not the mtime);
* :func:`response_headers` — ``Content-Type``, ``ETag``, ``Last-Modified``, a short public
  ``Cache-Control``, ``X-Content-Type-Options``, and CORS (``Access-Control-Allow-Origin: *``, never
  with credentials) for ``feeds/`` and ``snippets/``, which partner sites fetch from their origin;
* :func:`is_not_modified` — ``If-None-Match`` (preferred) or ``If-Modified-Since`` → 304;
* :func:`resolve_path` — URL path → file inside the root, refusing traversal, hidden files and
  symbolic links; :func:`read_inside` reads it with ``O_NOFOLLOW`` on every step;
* :func:`folder_location` — the only ``Location`` it sends: a same-origin path (``/x/``, never
  ``//x/``) built from the decoded, normalised path.

See docs/serving.md for the same headers in nginx and a static host's ``_headers`` file.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import socket
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock
from urllib.parse import quote, unquote, urlsplit

CACHE_CONTROL = "public, max-age=300"
CORS_PREFIXES = ("feeds/", "snippets/")
CHARSET = "; charset=utf-8"

# By file name first (the feed formats share .xml/.json with other files), then by suffix.
_BY_NAME = {
    "rss.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}
_BY_SUFFIX = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".xml": "application/xml",
    ".opml": "text/x-opml",
    ".txt": "text/plain",
    ".eml": "message/rfc822",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".woff2": "font/woff2",
}
_TEXTUAL = ("text/", "application/javascript", "application/json", "application/feed+json", "message/")


def media_type(rel_path: str) -> str:
    """The ``Content-Type`` for a site-relative path, with ``charset=utf-8`` for text."""
    name = posixpath.basename(rel_path)
    suffix = posixpath.splitext(name)[1].lower()
    base = _BY_NAME.get(name) or _BY_SUFFIX.get(suffix, "application/octet-stream")
    textual = base.startswith(_TEXTUAL) or base.endswith("+xml") or base == "application/xml"
    return base + CHARSET if textual else base


def strong_etag(data: bytes) -> str:
    """A strong ETag: same bytes, same tag, on every server and after every rebuild."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def is_cross_origin(rel_path: str) -> bool:
    """Partner sites read feeds and snippets from their own origin."""
    return rel_path.startswith(CORS_PREFIXES)


def cors_headers(rel_path: str) -> dict[str, str]:
    if not is_cross_origin(rel_path):
        return {}
    # "*" with no Allow-Credentials: anyone may read these public files, no cookies involved.
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag, Last-Modified"}


def response_headers(rel_path: str, etag: str, mtime: float) -> dict[str, str]:
    """Headers for a 200 (and, minus Content-Type, for a 304) of the file at ``rel_path``."""
    return {
        "Content-Type": media_type(rel_path),
        "ETag": etag,
        "Last-Modified": http_date(mtime),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        **cors_headers(rel_path),
    }


def preflight_headers(rel_path: str) -> dict[str, str]:
    """An OPTIONS answer for a cross-origin conditional request (If-None-Match is not safelisted)."""
    if not is_cross_origin(rel_path):
        return {}
    return {
        **cors_headers(rel_path),
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
        "Access-Control-Max-Age": "86400",
    }


def is_not_modified(request_headers: Mapping[str, str], etag: str, mtime: float) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(mtime) <= since
    return False


NOT_FOUND_PAGE = "404.html"


def not_found(root: Path) -> tuple[dict[str, str], bytes]:
    """Headers and body of a 404: the site's own ``404.html`` when the build made one."""
    try:
        return {"Content-Type": media_type(NOT_FOUND_PAGE)}, (Path(root) / NOT_FOUND_PAGE).read_bytes()
    except OSError:
        return {"Content-Type": "text/plain" + CHARSET}, b"not found\n"


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


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False):
    """A ready-to-run ``ThreadingHTTPServer`` for ``root`` (port 0: any free port)."""
    site = StaticSite(root)

    class Handler(PreviewHandler):
        pass

    Handler.site = site
    Handler.quiet = quiet
    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), Handler)
    server.daemon_threads = True
    return server


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class PreviewHandler(BaseHTTPRequestHandler):
    site: StaticSite
    quiet = False
    server_version = "goal17-preview"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)

    def do_OPTIONS(self) -> None:  # noqa: N802
        found = self._find()
        if found is None:
            return
        headers = preflight_headers(found[1]) or {"Allow": "GET, HEAD, OPTIONS"}
        self._send(HTTPStatus.NO_CONTENT, headers, b"", with_body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD, OPTIONS"}, b"method not allowed\n")

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815

    def _find(self) -> tuple[Path, str] | None:
        try:
            found = resolve_path(self.site.root, self.path)
        except Redirect as redirect:
            query = self.path.split("?", 1)[1].split("#", 1)[0] if "?" in self.path else ""
            location = with_query(redirect.location, query)
            self._send(HTTPStatus.MOVED_PERMANENTLY, {"Location": location}, b"")
            return None
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, *not_found(self.site.root))
        return found

    def _respond(self, with_body: bool) -> None:
        found = self._find()
        if found is None:
            return
        path, rel = found
        try:
            data, etag, mtime = self.site.read(path)
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, *not_found(self.site.root))
            return
        headers = response_headers(rel, etag, mtime)
        if is_not_modified(self.headers, etag, mtime):
            del headers["Content-Type"]
            self._send(HTTPStatus.NOT_MODIFIED, headers, b"", with_body=False, length=False)
            return
        self._send(HTTPStatus.OK, headers, data, with_body=with_body)

    def _send(
        self,
        status: HTTPStatus,
        headers: Mapping[str, str],
        body: bytes,
        with_body: bool = True,
        length: bool = True,
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        if not self.quiet:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")
