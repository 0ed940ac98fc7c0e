"""Every page of the example build in a real Chromium (issue 14, Deliver 9): nothing scrolls
sideways on a 390 px phone, no page logs a console error or throws, and the pages a reader
meets look as designed (badge names visible, stylesheet applied, thumbnails sized).

The example content is built (site and newsletter archive) with the address of a local static
server as base URL, so every stylesheet, image, feed and snippet request is real.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.browser_helpers import launched_chromium, require_chromium
from tests.static_server import make_server

require_chromium()

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-27T12:00"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    out = root / "out"
    out.mkdir()
    server = make_server(out, port=0, quiet=True)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    config = root / "site.toml"
    config.write_text(f'[site]\nbase_url = "{base}"\nstate_dir = "{root / "state"}"\n', encoding="utf-8")
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    common = ["--config", str(config), "--content", str(content), "--out", str(out), "--now", NOW, "-q"]
    shutil.rmtree(out)
    assert main(["build", *common]) == 0
    assert main(["newsletter", *common]) == 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, out
    finally:
        server.shutdown()
        server.server_close()


def pages(out: Path) -> list[str]:
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    return [p.removesuffix("index.html") for p in found]


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as launched:
        yield launched


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(el => {
    const box = el.getBoundingClientRect();
    if (box.width === 0) return false;
    for (let a = el.parentElement; a; a = a.parentElement) {   // inside a scrolling box: fine
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;
    }
    return box.right > width + 1;
  }).map(el => el.tagName + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 40));
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


def visit_all(browser, base: str, out: Path, viewport: dict) -> dict[str, list[str]]:
    """Every page at ``viewport``: the problems found on each (sideways scroll, console errors)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    # A request cut off by going to the next page (the tab icon, often) is not the page's fault.
    page.on(
        "requestfailed",
        lambda r: (
            errors.append(f"request failed: {r.url} {r.failure}") if r.failure != "net::ERR_ABORTED" else None
        ),
    )
    problems: dict[str, list[str]] = {}
    try:
        for rel in pages(out):
            errors.clear()
            response = page.goto(base + rel, wait_until="load", timeout=60_000)
            found = list(errors)
            if response is None or (response.status != 200 and rel != "404.html"):
                found.append(f"status {response and response.status}")
            layout = page.evaluate(OVERFLOW_JS)
            if layout["scroll"] > layout["width"] or layout["wide"]:
                found.append(f"scrolls sideways: {layout}")
            if found:
                problems[rel] = found
    finally:
        context.close()
    return problems


def test_no_page_scrolls_sideways_on_a_phone_or_logs_an_error(site, browser):
    base, out = site
    assert len(pages(out)) > 45  # updates, listings, targets, areas, newsletter, snippets demo
    assert visit_all(browser, base, out, PHONE) == {}


def test_no_page_logs_an_error_on_a_desktop(site, browser):
    base, out = site
    assert visit_all(browser, base, out, DESKTOP) == {}


def test_the_front_page_looks_as_designed(site, browser):
    base, _ = site
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(base, wait_until="load")
        # The stylesheet is applied (the accent bar under the header).
        assert (
            page.evaluate("getComputedStyle(document.querySelector('header.site')).borderBottomWidth")
            == "4px"
        )
        # Badge names are on screen, not hidden, at phone width.
        badge = page.locator(".badges a").first
        number, name = badge.inner_text().split(maxsplit=1)
        assert badge.is_visible() and badge.bounding_box()["width"] > 80 and number.startswith("17.") and name
        # The thumbnail keeps its box before it loads: width and height are given.
        thumb = page.locator(".with-thumb > img").first
        assert thumb.get_attribute("width") and thumb.get_attribute("height")
        box = thumb.bounding_box()
        assert 0 < box["width"] <= 120
        # The h1 is not the site title again.
        assert page.locator("h1").inner_text() != page.locator(".site-title").inner_text()
    finally:
        context.close()


def test_the_screenshot_tool_keeps_the_size_and_shrinks_the_file(site, browser):
    pytest.importorskip("PIL")
    from tools.screenshots import COLOURS, shoot, small_png

    base, _ = site
    raw = shoot(browser, base, PHONE)
    small = small_png(raw)
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(small))
    assert image.size == (PHONE["width"], PHONE["height"]) and image.mode == "P"
    assert len(image.getcolors()) <= COLOURS
    assert len(small) < len(raw) / 2
