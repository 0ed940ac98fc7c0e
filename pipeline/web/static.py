"""The built site beside the subscription service: an ASGI handler for the output folder.

``python -m pipeline serve`` runs one uvicorn server for both: the service's routes first, and
every other path answered from the output folder with exactly the rules of the static preview
(:mod:`pipeline.preview.static_host` and :mod:`~pipeline.preview.http_headers`: media types, strong ETags, 304s, CORS on feeds/ and snippets/, no
traversal, no symbolic links, folder redirects to same-origin paths only) — the same functions, so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from pipeline.preview.http_headers import is_not_modified, not_found, preflight_headers, response_headers
from pipeline.preview.static_host import Redirect, StaticSite, resolve_path, with_query

ALLOW = "GET, HEAD, OPTIONS"


class StaticFiles:
    """ASGI app serving ``root`` like the tests' server (tests/static_server.py)."""

    def __init__(self, root: Path):
        self.site = StaticSite(root)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        # The raw (still percent-encoded) path: resolve_path decodes it once and checks the result.
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        url_path = raw.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        if method not in ("GET", "HEAD", "OPTIONS"):
            await _send(send, 405, {"Allow": ALLOW}, b"method not allowed\n")
            return
        try:
            found = resolve_path(self.site.root, url_path)
        except Redirect as redirect:
            location = with_query(redirect.location, query)
            await _send(send, 301, {"Location": location}, b"")
            return
        if found is None:
            await _send(send, 404, *not_found(self.site.root), with_body=method != "HEAD")
            return
        path, rel = found
        if method == "OPTIONS":
            await _send(send, 204, preflight_headers(rel) or {"Allow": ALLOW}, b"", with_body=False)
            return
        try:
            data, etag, mtime = await run_in_threadpool(self.site.read, path)
        except OSError:
            await _send(send, 404, *not_found(self.site.root), with_body=method != "HEAD")
            return
        headers = response_headers(rel, etag, mtime)
        if is_not_modified(Headers(scope=scope), etag, mtime):
            del headers["Content-Type"]
            await _send(send, 304, headers, b"", with_body=False, length=False)
            return
        await _send(send, 200, headers, data, with_body=method != "HEAD")


async def _send(
    send: Send,
    status: int,
    headers: dict[str, str],
    body: bytes,
    *,
    with_body: bool = True,
    length: bool = True,
) -> None:
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    if length:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body if with_body else b""})


def static_route(root: Path) -> Mount:
    """A catch-all route for the output folder; list it after the service's routes."""
    return Mount("/", app=StaticFiles(root))
