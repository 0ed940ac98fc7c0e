"""A standard-library HTTP server for an output folder, for tests that need the site over HTTP.

It answers with the very functions the service's static handler uses
(:mod:`pipeline.preview.static_host`, :mod:`pipeline.preview.http_headers`), so what a test sees
is what ``python -m pipeline serve`` sends. Only tests use it: it lives here, not in the package.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.preview.http_headers import is_not_modified, not_found, preflight_headers, response_headers
from pipeline.preview.static_host import Redirect, StaticSite, resolve_path, with_query


def make_server(
    root: str | Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False
) -> ThreadingHTTPServer:
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
