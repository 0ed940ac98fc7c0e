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
* :func:`resolve_path` — URL path → file inside the root, refusing traversal and hidden files.

See docs/serving.md for the same headers in nginx and a static host's ``_headers`` file.
"""

from __future__ import annotations

import hashlib
import posixpath
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock
from urllib.parse import unquote, urlsplit

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
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def resolve_path(root: Path, url_path: str) -> tuple[Path, str] | None:
    """URL path → (file, site-relative path), or None when nothing may be served.

    ``..`` segments, NUL bytes, backslashes and hidden names are refused before touching the
    disk; the result must still lie inside ``root`` once symbolic links are resolved. A folder
    asked for without its trailing slash raises :class:`Redirect` (so relative links work).
    """
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        return None
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if any(s == ".." or s.startswith(".") for s in segments):
        return None
    base = root.resolve()
    candidate = base.joinpath(*segments)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(base):
        return None
    rel = "/".join(segments)
    if real.is_dir():
        if not path.endswith("/"):
            raise Redirect(path + "/")
        real = real / "index.html"
        rel = f"{rel}/index.html" if rel else "index.html"
        if not real.is_file():
            return None
    elif not real.is_file():
        return None
    return real, rel


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
        data = path.read_bytes()
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._etags.get(path)
            if cached is None or cached.key != key:
                cached = _Cached(key, strong_etag(data))
                self._etags[path] = cached
        return data, cached.etag, stat.st_mtime


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
            query = urlsplit(self.path).query
            location = redirect.location + (f"?{query}" if query else "")
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
