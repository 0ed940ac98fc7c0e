"""The preview server: media types, strong ETags, 304s, CORS, caching, indexes, no traversal."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from pipeline.config.site import default_settings
from pipeline.preview.http_headers import is_not_modified, media_type, strong_etag
from pipeline.publishing.site_build import run_build
from tests.conftest import NOW, REPO, front_matter
from tests.static_server import make_server


@pytest.fixture
def site(content_dir, write_update, settings, tmp_path) -> Path:
    write_update("a", targets=["17.9"], date="2026-11-01T10:00")
    out = tmp_path / "out"
    run_build(content_dir, out, settings, NOW)
    return out


def serving(out: Path) -> Iterator[tuple[str, int]]:
    httpd = make_server(out, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.server_address[:2]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(site) -> Iterator[tuple[str, int]]:
    """The server of a site of this test's own: for tests that rebuild it."""
    yield from serving(site)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``site`` fixture's site (the same update, settings and build) made once for the tests
    that only read it, in a folder of its own: content/, state/ and out/ side by side."""
    root = tmp_path_factory.mktemp("serve")
    (root / "content").mkdir()
    fields = {"title": "A", "id": "tag:test.example,2026:a", "date": "2026-11-01T10:00", "targets": ["17.9"]}
    (root / "content" / "a.md").write_text(front_matter(**fields) + "Text.\n", encoding="utf-8")
    run_build(root / "content", root / "out", default_settings(state_dir=str(root / "state")), NOW)
    return root / "out"


@pytest.fixture(scope="module")
def shared_server(shared_site: Path) -> Iterator[tuple[str, int]]:
    yield from serving(shared_site)


def request(address, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/feeds/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds/targets/17.9/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/index.json", "application/json; charset=utf-8"),
        ("/snippets/latest.json", "application/json; charset=utf-8"),
        ("/snippets/embed.js", "application/javascript; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/feeds/icon.png", "image/png"),
    ],
)
def test_media_types(shared_server, path, expected):
    status, headers, body = request(shared_server, path)
    assert status == 200 and body
    assert headers["content-type"] == expected
    assert headers["x-content-type-options"] == "nosniff"


def test_strong_etag_from_the_content_and_last_modified_from_the_file(shared_server, shared_site):
    status, headers, body = request(shared_server, "/feeds/atom.xml")
    assert headers["etag"] == strong_etag(body) and not headers["etag"].startswith("W/")
    mtime = (shared_site / "feeds/atom.xml").stat().st_mtime
    assert parsedate_to_datetime(headers["last-modified"]).timestamp() == int(mtime)
    assert headers["cache-control"] == "public, max-age=300"
    assert headers["content-length"] == str(len(body))


def test_readers_get_304_for_an_unchanged_feed_even_after_a_rebuild(server, site, content_dir, settings):
    _, first, _ = request(server, "/feeds/rss.xml")
    run_build(content_dir, site, settings, NOW)  # same content: the feed keeps its bytes and mtime
    for conditional in (
        {"If-None-Match": first["etag"]},
        {"If-None-Match": f'"other", W/{first["etag"]}'},
        {"If-Modified-Since": first["last-modified"]},
    ):
        status, headers, body = request(server, "/feeds/rss.xml", headers=conditional)
        assert status == 304 and body == b""
        assert headers["etag"] == first["etag"] and headers["access-control-allow-origin"] == "*"
        assert headers["cache-control"] == "public, max-age=300"


def test_a_changed_feed_is_sent_again(server, site, content_dir, write_update, settings):
    _, first, _ = request(server, "/feeds/atom.xml")
    time.sleep(0.01)
    write_update("b", targets=["17.1"], date="2026-11-02T10:00")
    run_build(content_dir, site, settings, NOW)
    status, headers, body = request(server, "/feeds/atom.xml", headers={"If-None-Match": first["etag"]})
    assert status == 200 and b"tag:test.example,2026:b" in body
    assert headers["etag"] != first["etag"]
    # An unchanged target feed still answers 304.
    _, target, _ = request(server, "/feeds/targets/17.9/atom.xml")
    assert (
        request(server, "/feeds/targets/17.9/atom.xml", headers={"If-None-Match": target["etag"]})[0] == 304
    )


def test_if_none_match_wins_over_if_modified_since():
    etag = strong_etag(b"x")
    assert not is_not_modified(
        {"If-None-Match": '"stale"', "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, etag, 0
    )
    assert is_not_modified({"If-None-Match": "*"}, etag, 0)
    assert not is_not_modified({"If-Modified-Since": "not a date"}, etag, 0)
    assert not is_not_modified({"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, etag, 100)


def test_cors_only_on_feeds_and_snippets_and_never_with_credentials(shared_server):
    for path in ("/feeds/atom.xml", "/feeds/index.opml", "/snippets/latest.json"):
        _, headers, _ = request(shared_server, path)
        assert headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in headers
        assert "ETag" in headers["access-control-expose-headers"]
    _, headers, _ = request(shared_server, "/")
    assert "access-control-allow-origin" not in headers
    status, headers, _ = request(
        shared_server, "/feeds/atom.xml", "OPTIONS", {"Origin": "https://kommun.example"}
    )
    assert status == 204 and headers["access-control-allow-origin"] == "*"
    assert "If-None-Match" in headers["access-control-allow-headers"]


def test_head_sends_headers_only(shared_server):
    status, headers, body = request(shared_server, "/feeds/feed.json", "HEAD")
    _, get_headers, get_body = request(shared_server, "/feeds/feed.json")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(get_body)) and headers["etag"] == get_headers["etag"]


def test_folders_serve_their_index_and_redirect_without_slash(shared_server):
    status, headers, body = request(shared_server, "/targets/17.9/")
    assert status == 200 and b"<html" in body
    status, headers, _ = request(shared_server, "/targets/17.9")
    assert status == 301 and headers["location"] == "/targets/17.9/"
    assert request(shared_server, "/feeds/")[0] == 404  # no index.html there, and no directory listing


@pytest.mark.parametrize(
    "path",
    [
        "/../conftest.py",
        "/feeds/../../content/a.md",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/feeds/..%2f..%2fcontent%2fa.md",
        "/feeds%5c..%5c..%5ccontent%5ca.md",
        "/.goal17-output",
        "/feeds/%00atom.xml",
        "/outside-link/secret.txt",
        "//etc/passwd",
    ],
)
def test_nothing_outside_the_output_folder_or_hidden_is_served(shared_server, shared_site, path):
    root = shared_site.parent  # content/ with a.md is next to out/, as in the site fixture
    (root / "secret").mkdir(exist_ok=True)
    (root / "secret" / "secret.txt").write_text("secret")
    link = shared_site / "outside-link"
    if not link.exists():
        os.symlink(root / "secret", link)
    status, _, body = request(shared_server, path)
    assert status in (400, 404) and b"secret" not in body and b"root:" not in body


def test_other_methods_are_refused(shared_server):
    status, headers, _ = request(shared_server, "/feeds/atom.xml", "POST")
    assert status == 405 and "GET" in headers["allow"]


def test_unit_media_type_rules():
    assert media_type("newsletters/2026-11/index.txt") == "text/plain; charset=utf-8"
    assert media_type("feeds/index.opml") == "text/x-opml; charset=utf-8"
    assert media_type("media/photo.JPG") == "image/jpeg"
    assert media_type("x.bin") == "application/octet-stream"


def test_serve_command_previews_the_output_folder(site):
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--out", str(site), "--port", "0", "-q"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(f"serving {site}/ at http://127.0.0.1:")
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        status, headers, _ = request(("127.0.0.1", port), "/feeds/atom.xml")
        assert status == 200 and headers["content-type"] == "application/atom+xml; charset=utf-8"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_command_explains_a_missing_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--out", str(tmp_path / "nope"), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "is not a folder: build first" in result.stderr
