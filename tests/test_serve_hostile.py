"""The preview server on hostile output folders and request paths (issue 17, defects 6 and 11).

Both servers, ``make_server`` in this process and ``python -m pipeline serve``, on one folder of
links out, hard links, odd names and encoded traversals: redirects stay on the site, no link is
followed, real files next to them are still served. (Split from tests/test_serve.py.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tests.conftest import REPO
from tests.static_server import make_server


def raw_request(address, target: bytes, host: bytes = b"127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """A request with the target sent byte for byte (http.client would refuse or re-encode it)."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


SECRET_TEXT = "root:$6$not-for-your-eyes"


def hostile_site(root: Path) -> Path:
    """An output folder with folders whose names invite an off-site redirect, and links out."""
    out = root / "out"
    for folder in ("updates", "evil.example", "a b", "ü", "x:y", "@evil.example", "17.9"):
        (out / folder).mkdir(parents=True, exist_ok=True)
        (out / folder / "index.html").write_text(f"<!doctype html><title>{folder}</title>", encoding="utf-8")
    (out / "index.html").write_text("<!doctype html><title>home</title>", encoding="utf-8")
    (out / ".goal17-output").write_text("")
    (out / "media").mkdir(exist_ok=True)
    (out / "media" / "photo.png").write_bytes(b"\x89PNG real")
    secret = root / "shadow"
    secret.write_text(SECRET_TEXT)
    os.symlink(secret, out / "media" / "shadow.png")  # out of the folder
    os.symlink(out / "media" / "photo.png", out / "media" / "alias.png")  # a link inside the folder
    os.symlink("photo.png", out / "media" / "relative.png")
    os.symlink(root, out / "linked-folder")  # a folder link: everything under it
    os.symlink(out / "updates", out / "updates-link")
    os.link(secret, out / "media" / "hard.png")  # same inode as a file elsewhere
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[dict[str, tuple[str, int]]]:
    """The same hostile folder behind both servers: ``make_server`` and ``python -m pipeline serve``."""
    root = tmp_path_factory.mktemp("hostile")
    out = hostile_site(root)
    httpd = make_server(out, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    (root / "site.toml").write_text(
        f'[site]\nbase_url = "http://127.0.0.1/"\nstate_dir = "{root / "state"}"\n', encoding="utf-8"
    )
    env = {**os.environ, "GOAL17_SECRET": "serve-test-secret-0123456789abcdef-0123"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(root / "site.toml")]
        + ["--out", str(out), "--port", "0", "-q"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert "127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        yield {"stdlib": httpd.server_address[:2], "serve": ("127.0.0.1", port), "out": out}
    finally:
        process.terminate()
        process.wait(timeout=20)
        httpd.shutdown()
        httpd.server_close()


SERVERS = ["stdlib", "serve"]


@pytest.mark.parametrize("which", SERVERS)
@pytest.mark.parametrize(
    "target, location",
    [
        (b"/%2fupdates", "/updates/"),
        (b"/%2Fevil.example", "/evil.example/"),
        (b"//evil.example", "/evil.example/"),
        (b"/%5cevil.example", None),
        (b"/.%2fevil.example", "/evil.example/"),
        (b"/%2f%2f@evil.example", "/@evil.example/"),
        (b"/a%20b", "/a%20b/"),
        (b"/%C3%BC", "/%C3%BC/"),
        (b"/x:y", "/x:y/"),
        (b"/updates?a=1&b=%0d%0aSet-Cookie:x", "/updates/?a=1&b=%0d%0aSet-Cookie:x"),
    ],
)
def test_folder_redirects_stay_on_this_site(hostile, which, target, location):
    status, headers, _ = raw_request(hostile[which], target)
    if location is None:
        assert status in (400, 404) and "location" not in headers
    else:
        assert (status, headers["location"]) == (301, location)


@pytest.mark.parametrize("which", SERVERS)
@pytest.mark.parametrize(
    "target",
    [
        b"/media/shadow.png",
        b"/media/alias.png",
        b"/media/relative.png",
        b"/media/hard.png",
        b"/linked-folder/shadow",
        b"/updates-link/",
        b"/updates-link",
        b"/media/%73hadow.png",
    ],
)
def test_no_symbolic_or_hard_link_is_served(hostile, which, target):
    status, headers, body = raw_request(hostile[which], target)
    assert status == 404 and "location" not in headers
    assert b"root:" not in body and b"PNG" not in body


@pytest.mark.parametrize("which", SERVERS)
def test_real_files_next_to_the_links_are_still_served(hostile, which):
    assert raw_request(hostile[which], b"/media/photo.png")[::2] == (200, b"\x89PNG real")
    assert raw_request(hostile[which], b"/evil.example/")[0] == 200


def test_a_file_swapped_for_a_link_after_the_check_is_not_read(tmp_path):
    from pipeline.preview.static_host import StaticSite, resolve_path

    out = tmp_path / "out"
    (out / "media").mkdir(parents=True)
    (out / "media" / "x.png").write_bytes(b"image")
    (tmp_path / "secret").write_text(SECRET_TEXT)
    found = resolve_path(out, "/media/x.png")
    assert found is not None
    site = StaticSite(out)
    assert site.read(found[0])[0] == b"image"
    (out / "media" / "x.png").unlink()
    os.symlink(tmp_path / "secret", out / "media" / "x.png")  # the race a check-then-open loses
    with pytest.raises(OSError):
        site.read(found[0])
    (out / "media" / "x.png").unlink()
    (out / "media" / "x.png").write_bytes(b"image")
    os.rename(out / "media", out / "elsewhere")
    os.symlink(out / "elsewhere", out / "media")  # a folder on the way swapped for a link
    with pytest.raises(OSError):
        site.read(found[0])


# Pieces of request paths a client may send: encoded and raw slashes and backslashes, dots,
# folder names that look like hosts, unicode, NUL and other control bytes, and the links.
PIECES = [
    "/", "//", "%2f", "%2F", "%5c", "%5C", "\\", ".", "..", "%2e", "%2e%2e", "%00", "%0d%0a", "%09",
    "updates", "evil.example", "@evil.example", "a%20b", "%C3%BC", "ü", "17.9", "x:y", "media",
    "photo.png", "index.html", "?", "#", "%3f", "%23", "http:", "%252f", "%ff", "~", ";",
    "shadow.png", "hard.png", "alias.png", "linked-folder", "shadow", "updates-link",
]  # fmt: skip


@pytest.mark.parametrize("which", SERVERS)
def test_property_every_redirect_is_a_same_origin_path_to_a_real_folder(hostile, which):
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    pieces = st.lists(st.sampled_from(PIECES) | st.text(min_size=1, max_size=3), min_size=1, max_size=8)

    @hsettings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(pieces)
    def check(parts: list[str]) -> None:
        target = ("/" + "".join(parts)).encode("utf-8")
        target = bytes(b for b in target if b > 0x20 and b != 0x7F)  # the request line itself must parse
        status, headers, body = raw_request(hostile[which], target)
        assert status in (200, 301, 304, 400, 404), (target, status)
        assert SECRET_TEXT.encode() not in body, target
        if status != 301:
            assert "location" not in headers
            return
        location = headers["location"]
        assert location.startswith("/") and location[1:2] not in ("/", "\\"), (target, location)
        assert all(0x20 < ord(c) < 0x7F for c in location), (target, location)
        joined = urlsplit(urljoin("http://127.0.0.1:1/base/", location))
        assert (joined.scheme, joined.netloc) == ("http", "127.0.0.1:1"), (target, location)
        # It names a folder that exists, and following it serves that folder's page.
        folder = unquote(joined.path)
        named = hostile["out"] / folder.strip("/")
        assert named.is_dir() and not named.is_symlink(), (target, location)
        followed = raw_request(hostile[which], location.encode("ascii"))
        expected = 200 if (named / "index.html").is_file() else 404
        assert followed[0] == expected, (target, location, followed[0])

    check()


def test_reading_a_path_outside_the_folder_is_an_os_error(tmp_path):
    from pipeline.preview.static_host import StaticSite

    (tmp_path / "out").mkdir()
    (tmp_path / "secret").write_text(SECRET_TEXT)
    site = StaticSite(tmp_path / "out")
    for path in (tmp_path / "secret", tmp_path / "out", Path("/etc/passwd")):
        with pytest.raises(OSError):
            site.read(path)
