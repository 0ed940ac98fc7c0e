"""The HTTP headers the output folder is served with, as plain functions any server can reuse.

``python -m pipeline serve`` (the subscription service's app, :mod:`pipeline.web.static`) and
the tests' standard-library server answer with these same functions, so they cannot drift apart:

* :func:`media_type` — ``application/rss+xml``, ``application/atom+xml``,
  ``application/feed+json``, ``application/json``, … with ``charset=utf-8`` on text types;
* :func:`strong_etag` — a strong validator from the content hash (the bytes decide, not the mtime);
* :func:`response_headers` — ``Content-Type``, ``ETag``, ``Last-Modified``, a short public
  ``Cache-Control``, ``X-Content-Type-Options``, and CORS (``Access-Control-Allow-Origin: *``, never
  with credentials) for ``feeds/`` and ``snippets/``, which partner sites fetch from their origin;
* :func:`is_not_modified` — ``If-None-Match`` (preferred) or ``If-Modified-Since`` → 304.

See docs/serving.md for the same headers in nginx and a static host's ``_headers`` file.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from pipeline.outputs import urls

CACHE_CONTROL = "public, max-age=300"
CORS_PREFIXES = (urls.FEEDS, urls.SNIPPETS)
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
    """An HTTP date (``Last-Modified``) for a file's mtime."""
    return formatdate(timestamp, usegmt=True)


def is_cross_origin(rel_path: str) -> bool:
    """Partner sites read feeds and snippets from their own origin."""
    return rel_path.startswith(CORS_PREFIXES)


def cors_headers(rel_path: str) -> dict[str, str]:
    """The CORS headers for ``rel_path``: none unless partner sites read it from their origin."""
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
