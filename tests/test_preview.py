"""``python -m pipeline serve``: a real preview process on 127.0.0.1 (issue 14, Deliver 1).

One process per module, on a copy of the example content with its own state folder: every
link of every page is crawled (bounded), the sign-up form is used and its mail read from the
preview's outbox, a content file is edited and the change is seen served.
"""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-27T12:00"
CRAWL_LIMIT = 600  # the example build has about 200 pages and files
WAIT = 90.0  # seconds: generous, the machine is shared


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.checked: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("href", "src", "action"):
            if values.get(name):
                self.urls.append((tag, name, values[name]))
        if tag == "input" and values.get("name") == "targets" and "checked" in values:
            self.checked.append(values.get("value", ""))


def links(body: str) -> Links:
    parser = Links()
    parser.feed(body)
    return parser


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, lower(error.headers), error.read()


def lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def wait_for(condition, what: str, timeout: float = WAIT):
    """Poll ``condition`` until it returns something true; the deadline only bounds a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    root = tmp_path_factory.mktemp("preview")
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    config = root / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{root / "state"}"\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--content", str(content), "--config", str(config)]
        + ["--port", "0", "--now", NOW, "-q"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        while first.startswith("warning: "):  # e.g. the development secret: expected on a preview
            first = process.stdout.readline()
        assert first.startswith("preview of "), first
        url = first.split(" at ", 1)[1].split(" ", 1)[0]
        second = process.stdout.readline()
        outbox = Path(second.rsplit("mails land in ", 1)[1].strip().rstrip("/"))
        yield {"url": url, "content": content, "outbox": outbox, "root": root}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_preview_is_built_with_the_local_address_outside_outputs(preview):
    url = preview["url"]
    assert url.startswith("http://127.0.0.1:")
    status, headers, body = fetch(url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "mal17.example.se" not in page
    sheet = [v for tag, name, v in links(page).urls if tag == "link" and v.endswith("style.css")]
    assert sheet == ["static/style.css"]
    status, headers, css = fetch(urllib.parse.urljoin(url, sheet[0]))
    assert status == 200 and headers["content-type"].startswith("text/css") and b"--accent" in css
    assert (preview["root"] / "state/preview-site/site/index.html").is_file()
    assert not (REPO / "outputs").exists() or not (REPO / "outputs").is_relative_to(preview["root"])


def test_every_link_of_every_page_resolves_locally(preview):
    base = preview["url"]
    queue, seen, pages, checked = [base], {base}, 0, 0
    while queue:
        assert checked < CRAWL_LIMIT, "the crawl did not end: too many distinct local URLs"
        current = queue.pop(0)
        status, headers, body = fetch(current)
        checked += 1
        assert status == 200, (current, status)
        if not headers.get("content-type", "").startswith("text/html"):
            continue
        pages += 1
        text = body.decode()
        assert "mal17.example.se" not in text, current  # nothing points at the public site
        for tag, _name, value in links(text).urls:
            if tag == "form" or value.startswith(("mailto:", "tel:")):
                continue
            absolute = urllib.parse.urldefrag(urllib.parse.urljoin(current, value))[0]
            if not absolute.startswith(base):
                assert not absolute.startswith("http://127."), absolute
                continue  # a link out of the site, written by an author
            if absolute not in seen:
                seen.add(absolute)
                queue.append(absolute)
    assert pages > 50  # front page, updates, targets, areas, archive pages, newsletters
    assert any("/newsletters/" in u for u in seen) and any(u.endswith("/subscribe") for u in seen)


def test_follow_by_mail_ticks_the_target_and_the_mail_lands_in_the_outbox_with_local_links(preview):
    base = preview["url"]
    _, _, body = fetch(base + "targets/17.9/")
    follow = [v for tag, name, v in links(body.decode()).urls if "subscribe?" in v]
    assert follow == [base + "subscribe?targets=17.9"]
    status, _, form = fetch(follow[0])
    assert status == 200 and links(form.decode()).checked == ["17.9"]
    data = urllib.parse.urlencode({"email": "lasare@example.com", "targets": "17.9", "lang": "sv"}).encode()
    status, _, _ = fetch(base + "subscribe", data, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 202
    outbox = preview["outbox"]
    files = wait_for(
        lambda: sorted(outbox.rglob("*.eml")) if outbox.is_dir() else [], "the confirmation mail"
    )
    message = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert message["To"] == "lasare@example.com"
    text = message.get_body(("plain",)).get_content()
    confirm = [word for word in text.split() if "/confirm/" in word]
    assert confirm and confirm[0].startswith(base + "confirm/")
    status, _, page = fetch(confirm[0])
    assert status == 200  # the link in the mail opens the preview's own service


def test_pages_reload_after_a_rebuild_and_an_edit_is_served(preview):
    base = preview["url"]
    _, _, front = fetch(base)
    assert b'<script src="/_preview/reload.js" defer></script>' in front
    _, _, form = fetch(base + "subscribe")
    assert b"/_preview/reload.js" not in form  # the service's pages keep their no-script policy
    assert (preview["root"] / "state/preview-site/site/index.html").read_bytes().count(b"<script") == 0
    _, _, script = fetch(base + "_preview/reload.js")
    assert b"location.reload" in script and b"innerHTML" not in script

    def stamp() -> dict:
        return json.loads(fetch(base + "_preview/stamp")[2])

    before = stamp()
    assert before["error"] is None
    source = preview["content"] / "voluntary-local-reviews.md"
    original = source.read_text(encoding="utf-8")
    title = next(line for line in original.splitlines() if line.startswith("title:"))
    source.write_text(original.replace(title, 'title: "Redigerad rubrik i förhandsvisningen"'), "utf-8")
    wait_for(lambda: stamp()["stamp"] > before["stamp"], "the rebuild after an edit")
    _, _, front = fetch(base)
    assert "Redigerad rubrik i förhandsvisningen" in front.decode()
    # A broken edit: the message is shown, the last good site stays.
    source.write_text(original.replace(title, "title: [unclosed"), "utf-8")
    failed = wait_for(lambda: stamp()["error"], "the failed rebuild to be reported")
    assert "voluntary-local-reviews.md" in failed
    assert "Redigerad rubrik i förhandsvisningen" in fetch(base)[2].decode()
    source.write_text(original, "utf-8")
    wait_for(lambda: stamp()["error"] is None, "the repaired rebuild")


def test_a_head_request_keeps_the_files_length(preview):
    request = urllib.request.Request(preview["url"] + "static/style.css", method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        css_length = int(response.headers["Content-Length"])
    assert css_length > 1000
    page = preview["root"] / "state/preview-site/site/404.html"
    request = urllib.request.Request(preview["url"] + "404.html", method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert int(response.headers["Content-Length"]) == page.stat().st_size


def test_unknown_paths_get_the_sites_404_page(preview):
    status, headers, body = fetch(preview["url"] + "finns/inte/")
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert "Sidan finns inte" in body.decode()


def test_serve_without_a_content_folder_is_a_one_line_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--content", str(tmp_path / "nope"), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in result.stderr


def test_an_open_page_reloads_itself_and_shows_a_failed_build(preview):
    """In Chromium: the page reloads after an edit, and a broken edit shows its message."""
    from tests.browser_helpers import CHROMIUM, launched_chromium

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    base = preview["url"]
    source = preview["content"] / "lokala-data-for-agenda-2030.md"
    original = source.read_text(encoding="utf-8")
    title = next(line for line in original.splitlines() if line.startswith("title:"))
    errors: list[str] = []
    with launched_chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(base + "updates/lokala-data-for-agenda-2030/", wait_until="load")
        page.evaluate("window.__before_edit = true")
        # Wait until the script has seen the current stamp, so the edit is a change to it.
        page.wait_for_function("performance.getEntriesByName(location.origin + '/_preview/stamp').length > 0")
        try:
            source.write_text(
                original.replace(title, 'title: "Rubriken ändrades medan sidan var öppen"'), "utf-8"
            )
            page.wait_for_function(
                "document.querySelector('h1') && document.querySelector('h1').textContent"
                ".includes('Rubriken ändrades medan sidan var öppen')",
                timeout=WAIT * 1000,
            )
            assert page.evaluate("window.__before_edit === undefined")  # a real reload
            page.wait_for_function(
                "performance.getEntriesByName(location.origin + '/_preview/stamp').length > 0"
            )
            source.write_text(original.replace(title, "title: [unclosed"), "utf-8")
            page.wait_for_selector("#goal17-preview-error", timeout=WAIT * 1000)
            message = page.locator("#goal17-preview-error").inner_text()
            assert "lokala-data-for-agenda-2030.md" in message
            assert "Rubriken ändrades medan sidan var öppen" in page.locator("h1").inner_text()
        finally:
            source.write_text(original, "utf-8")
        page.wait_for_selector("#goal17-preview-error", state="detached", timeout=WAIT * 1000)
    assert errors == []


def test_content_that_cannot_be_built_is_reported_with_its_file_and_line(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "trasig.md").write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--content", str(content), "--config", str(config)]
        + ["--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the preview could not be built: ")
    assert any("trasig.md:" in line for line in lines[:-1])
    assert "Traceback" not in result.stderr
