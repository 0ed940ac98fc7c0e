"""The embed script in a real headless Chromium: a partner page on one origin, snippets on another.

Two loopback HTTP servers stand in for a partner's site and ours; Playwright drives Debian's
chromium. The partner page carries hostile CSS and a hand-made hostile snippet (what a tampered
mirror could serve), so the checks cover the script's own defences, not only the pipeline's.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.config.site import default_settings
from pipeline.publishing.site_build import run_build
from pipeline.reading.dates import display_date
from tests.browser_helpers import launched_chromium, require_chromium
from tests.conftest import NOW, REPO, front_matter
from tests.snippets_helpers import HOSTILE, NORMAL, PIXEL_PNG

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def swedish_date(rfc3339: str) -> str:
    return display_date(datetime.fromisoformat(rfc3339), "sv", STOCKHOLM)


require_chromium()

ARTIFACTS = REPO / "tests" / "artifacts"

# What a tampered or malicious mirror could serve: the script must show it as text and run none of it.
EVIL_SNIPPET = {
    "title": '<img src=x onerror="window.__pwned=1;alert(1)">Evil title',
    "lang": 'en" onmouseover="window.__pwned=2',
    "page_url": "javascript:window.__pwned=3;alert(3)",
    "home_url": "data:text/html,<script>alert(4)</script>",
    "items": [
        {
            "title": "<script>window.__pwned=5;alert(5)</script>",
            "url": "javascript:window.__pwned=6;alert(6)",
            "date": '"><svg onload="window.__pwned=7;alert(7)">',
            "display_date": "<iframe src=javascript:alert(8)></iframe>",
            "summary": "<img src=x onerror=alert(9)><style>*{display:none}</style>",
            "excerpt_html": "<img src=x onerror=alert(10)>",
            "targets": [{"id": "<b onmouseover=alert(11)>17.1</b>"}],
            "lang": "en><script>alert(12)</script>",
        },
        {
            "title": "Second, with a data: link",
            "url": "data:text/html,<script>alert(13)</script>",
            "lang": "en",
        },
        "not an object",
        None,
    ],
}

PARTNER_PAGE = """<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<title>Partnerkommunen</title>
<script>window.hostErrors = []; addEventListener("error", function (e) { hostErrors.push(String(e.message)); });</script>
<style>
  /* Hostile host CSS: none of it may reach inside a widget. */
  body { font: 16px Georgia, serif; background: #fbf8f2; margin: 0; padding: 16px 24px; }
  * { color: rgb(255, 0, 0) !important; }
  h2, h3 { font-size: 60px !important; text-transform: uppercase; }
  ul, li { list-style: square !important; margin: 0 0 0 30px; }
  a { text-decoration: line-through !important; }
  .g17-item, .g17-title, section { display: none !important; }
  .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; align-items: start; }
  .grid > div { min-width: 0; }
  #themed { --goal17-accent: rgb(255, 209, 102); --goal17-bg: rgb(25, 72, 106); --goal17-color: rgb(255, 255, 255);
            --goal17-muted: rgb(215, 227, 238); --goal17-rule: rgb(47, 102, 144); --goal17-radius: 12px; }
</style>
</head>
<body>
<h1>Partnerkommunens sida</h1>
<p id="host-before">väntar</p>
<ul id="host-list" class="g17-list"><li class="g17-item">Värdsidans egen lista</li></ul>
<div class="grid">
  <div id="w-latest" data-goal17="latest" data-limit="3"><a href="/">Nyheter</a></div>
  <div id="w-target" data-goal17="targets/17.17" data-limit="2" data-lang="sv"></div>
  <div id="w-en" data-goal17="latest" data-lang="en" data-limit="5"></div>
  <div id="w-missing" data-goal17="groups/no-such-group"></div>
  <div id="w-bad-name" data-goal17="../../secrets"></div>
  <div id="w-evil" data-goal17="groups/evil" data-limit="10"></div>
  <div id="themed" data-goal17="lang/en/latest" data-limit="2" data-heading="3"></div>
  <div id="w-unknown" data-goal17="targets/17.20"><a id="own-link" href="/mal17/">Våra nyheter om mål 17</a></div>
  <div id="w-compact" data-goal17="latest" data-layout="compact" data-limit="3" data-heading="off"></div>
  <div id="w-cards" data-goal17="latest" data-layout="cards" data-limit="6" data-heading="Nytt från mål 17"></div>
  <div id="w-nosummary" data-goal17="latest" data-summary="off" data-limit="2"></div>
  <div id="w-garbled" data-goal17="groups/garbled"></div>
  <div id="w-target-fail" data-goal17="targets/17.4" data-lang="en"></div>
</div>
<script src="EMBED_URL" async></script>
<script>document.getElementById("host-before").textContent = "värdskriptet körde";</script>
</body>
</html>
"""

# The same embed, but in a browser where document.currentScript is unavailable (late async run).
NO_CURRENT_SCRIPT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>No currentScript</title>
<script>Object.defineProperty(document, "currentScript", { get: function () { return null; } });</script>
</head><body>
<div id="w-only" data-goal17="targets/17.9" data-limit="1"></div>
<script src="EMBED_URL" async></script>
</body></html>
"""

# A browser without Shadow DOM: the widget falls back to prefixed class names in the page itself.
NO_SHADOW_PAGE = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"><title>Utan Shadow DOM</title>
<script>delete Element.prototype.attachShadow;</script>
</head><body>
<div id="w-plain" data-goal17="targets/17.9" data-limit="2"><a href="/egen">Egen länk</a></div>
<div id="w-plain-unknown" data-goal17="targets/17.0"><a href="/egen">Egen länk kvar</a></div>
<script src="EMBED_URL" async></script>
</body></html>
"""

WIDGETS = [
    "w-latest",
    "w-target",
    "w-en",
    "w-missing",
    "w-bad-name",
    "w-evil",
    "themed",
    "w-unknown",
    "w-compact",
    "w-cards",
    "w-nosummary",
]

# Done: the widget's box exists and is no longer busy (data shown, or the failure state).
READY_JS = """ids => ids.every(id => {
    const root = document.getElementById(id).shadowRoot;
    const box = root && root.querySelector('section');
    return box && !box.hasAttribute('aria-busy');
})"""


class _Quiet(SimpleHTTPRequestHandler):
    cors = False

    def end_headers(self) -> None:
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]


class _Cors(_Quiet):
    cors = True


def _serve(directory: Path, handler: type[_Quiet]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    server.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _write(folder: Path, name: str, fields: dict, body: str) -> None:
    fields = {"id": f"tag:test.example,2026:{name}", **fields}
    (folder / f"{name}.md").write_text(front_matter(**fields) + body, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("embed")
    content, out, partner = root / "content", root / "out", root / "partner"
    for folder in (content / "media", partner):
        folder.mkdir(parents=True)
    (content / "media" / "bild.png").write_bytes(PIXEL_PNG)
    for name, fields, body in NORMAL + HOSTILE:
        _write(content, name, fields, body)
    out.mkdir()
    ours = _serve(out, _Cors)
    base = f"http://127.0.0.1:{ours.server_address[1]}/"
    settings = default_settings(base_url=base, state_dir=str(root / "state"))
    run_build(content, out, settings, NOW)
    evil = dict(json.loads((out / "snippets/groups/data.json").read_text("utf-8")), **EVIL_SNIPPET)
    (out / "snippets/groups/evil.json").write_text(json.dumps(evil), encoding="utf-8")
    (out / "snippets/groups/garbled.json").write_text('{"items": [', encoding="utf-8")  # cut off
    (out / "snippets/targets/17.4.json").unlink()  # a target file gone missing on our side
    embed_url = base + "snippets/embed.js"
    (partner / "index.html").write_text(PARTNER_PAGE.replace("EMBED_URL", embed_url), encoding="utf-8")
    (partner / "plain.html").write_text(
        NO_CURRENT_SCRIPT_PAGE.replace("EMBED_URL", embed_url), encoding="utf-8"
    )
    (partner / "noshadow.html").write_text(NO_SHADOW_PAGE.replace("EMBED_URL", embed_url), encoding="utf-8")
    theirs = _serve(partner, _Quiet)
    try:
        yield {
            "out": out,
            "base": base,
            "partner": f"http://127.0.0.1:{theirs.server_address[1]}/",
            "requests": ours.requests,
        }
    finally:
        for server in (ours, theirs):
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def browser(site) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def partner_page(site, browser) -> Iterator[dict[str, Any]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: dialogs.append(f"pageerror: {error}"))
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(site["partner"] + "index.html")
    page.wait_for_function(READY_JS, arg=WIDGETS)
    page.wait_for_timeout(300)  # let any injected handler or late script have its chance to fire
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed.png"), full_page=True)
    yield {"page": page, "dialogs": dialogs, "warnings": warnings}
    page.close()


def _snippet(site, name: str) -> dict[str, Any]:
    return json.loads((site["out"] / "snippets" / f"{name}.json").read_text("utf-8"))


def _widget(page, widget_id: str) -> dict[str, Any]:
    """What a reader of one widget gets: heading, items (title, href, lang, datetime, date text)."""
    return page.evaluate(
        """id => {
            const root = document.getElementById(id).shadowRoot;
            const section = root.querySelector('section');
            const items = [...root.querySelectorAll('li.g17-item')].map(li => ({
                title: li.querySelector('.g17-item-title').textContent,
                href: li.querySelector('.g17-item-title a') ? li.querySelector('.g17-item-title a').getAttribute('href') : null,
                lang: li.querySelector('.g17-item-title').getAttribute('lang'),
                meta: li.querySelector('.g17-meta') ? li.querySelector('.g17-meta').textContent : null,
                image: li.querySelector('img') ? li.querySelector('img').getAttribute('src') : null,
                thumb: !!li.querySelector('.g17-thumb'),
                namesLang: li.querySelector('.g17-meta span') ? li.querySelector('.g17-meta span').getAttribute('lang') : null,
                datetime: li.querySelector('time') ? li.querySelector('time').getAttribute('datetime') : null,
                date: li.querySelector('time') ? li.querySelector('time').textContent : null,
                summary: li.querySelector('.g17-summary') ? li.querySelector('.g17-summary').textContent : null,
            }));
            const heading = root.querySelector('.g17-title');
            return {
                lang: section.getAttribute('lang'),
                heading: heading ? heading.textContent : null,
                headingTag: heading ? heading.tagName : null,
                items,
                links: [...root.querySelectorAll('a')].map(a => a.getAttribute('href')),
                text: section.textContent,
                fail: root.querySelector('.g17-fail') ? root.querySelector('.g17-fail a').getAttribute('href') : null,
                failText: root.querySelector('.g17-fail a') ? root.querySelector('.g17-fail a').textContent : null,
                slot: !!root.querySelector('slot'),
            };
        }""",
        widget_id,
    )


def test_latest_widget_shows_the_newest_items_in_order(site, partner_page):
    widget = _widget(partner_page["page"], "w-latest")
    expected = _snippet(site, "latest")["items"][:3]
    assert [i["title"] for i in widget["items"]] == [i["title"] for i in expected]
    assert [i["href"] for i in widget["items"]] == [i["url"] for i in expected]
    assert [i["lang"] for i in widget["items"]] == [i["lang"] for i in expected]
    assert [i["datetime"] for i in widget["items"]] == [i["date"] for i in expected]
    # dates in the widget's language (the page is Swedish), also for an English update
    assert [i["date"] for i in widget["items"]] == [swedish_date(i["date"]) for i in expected]
    assert "en" in [i["lang"] for i in expected]
    assert widget["lang"] == "sv"
    assert widget["heading"] == _snippet(site, "latest")["title"]
    assert widget["headingTag"] == "H2"


def test_target_widget_honours_the_limit(site, partner_page):
    widget = _widget(partner_page["page"], "w-target")
    expected = _snippet(site, "targets/17.17")["items"]
    assert len(expected) > 2
    assert [i["title"] for i in widget["items"]] == [i["title"] for i in expected[:2]]
    assert widget["heading"] == "Delmål 17.17: Uppmuntra effektiva partnerskap"


def test_language_filter_shows_only_english_items_with_english_words(site, partner_page):
    widget = _widget(partner_page["page"], "w-en")
    expected = [i for i in _snippet(site, "latest")["items"] if i["lang"] == "en"][:5]
    assert len(expected) >= 2
    assert [i["title"] for i in widget["items"]] == [i["title"] for i in expected]
    assert {i["lang"] for i in widget["items"]} == {"en"}
    assert widget["lang"] == "en"
    assert "All updates" in widget["text"]
    assert widget["items"][0]["date"].split()[1] in {"September", "October", "November"}


def test_hostile_payload_does_not_run(site, partner_page):
    page = partner_page["page"]
    assert partner_page["dialogs"] == []
    assert page.evaluate("window.__pwned") is None
    evil = _widget(page, "w-evil")
    # Shown as inert text, links only where the URL is http(s).
    assert evil["heading"].startswith("<img src=x onerror=")
    assert evil["items"][0]["title"] == "<script>window.__pwned=5;alert(5)</script>"
    assert evil["items"][0]["href"] is None and evil["items"][1]["href"] is None
    assert len(evil["items"]) == 2  # the non-object entries are skipped
    assert evil["links"] == []
    found = page.evaluate(
        """() => {
            const roots = [document, ...[...document.querySelectorAll('[data-goal17]')].map(h => h.shadowRoot)];
            const all = roots.flatMap(r => [...r.querySelectorAll('*')]);
            const allowed = new Set(['STYLE', 'SECTION', 'H2', 'H3', 'H4', 'A', 'UL', 'LI', 'P', 'TIME', 'DIV',
                                     'IMG', 'SPAN', 'SLOT']);
            return {
                shadowTags: roots.slice(1).flatMap(r => [...r.querySelectorAll('*')].map(e => e.tagName))
                    .filter(t => !allowed.has(t)),
                handlers: all.flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
                badUrls: all.flatMap(e => ['href', 'src', 'action'].map(n => e.getAttribute(n)))
                    .filter(v => v && /^\\s*(javascript|data|vbscript):/i.test(v)),
                scripts: document.scripts.length,
                langs: all.map(e => e.getAttribute('lang')).filter(l => l && !/^[a-z]{2}$/.test(l)),
            };
        }"""
    )
    assert found == {"shadowTags": [], "handlers": [], "badUrls": [], "scripts": 3, "langs": []}


def test_sanitized_hostile_updates_render_as_plain_news(site, partner_page):
    widget = _widget(partner_page["page"], "w-target")
    hostile_titles = {i["title"] for i in _snippet(site, "targets/17.17")["items"][:2]}
    assert "Rubrik" in hostile_titles  # the hostile update is really in this widget
    assert "<" not in widget["text"]


def test_missing_snippet_and_bad_name_show_the_fallback_link(site, partner_page):
    page = partner_page["page"]
    for widget_id in ("w-missing", "w-bad-name"):
        widget = _widget(page, widget_id)
        assert widget["items"] == []
        assert widget["fail"] == site["base"]
        assert "kunde inte visas" in widget["text"]
        # a link text that says where it goes, not a bare host name
        assert widget["failText"] == "Gå till nyheterna om mål 17"
    assert "/snippets/groups/no-such-group.json" in site["requests"]
    assert not any("secrets" in path for path in site["requests"])


def test_host_page_script_still_runs_and_sees_no_errors(partner_page):
    page = partner_page["page"]
    assert page.text_content("#host-before") == "värdskriptet körde"
    assert page.evaluate("window.hostErrors") == []
    assert page.evaluate("typeof window.goal17.scan") == "function"


def test_widgets_and_host_css_do_not_touch_each_other(partner_page):
    page = partner_page["page"]
    styles = page.evaluate(
        """() => {
            const root = document.getElementById('w-latest').shadowRoot;
            const css = el => getComputedStyle(el);
            const item = root.querySelector('.g17-item');
            return {
                itemDisplay: css(item).display,
                listStyle: css(root.querySelector('.g17-list')).listStyleType,
                titleSize: css(root.querySelector('.g17-title')).fontSize,
                linkColor: css(root.querySelector('.g17-item-title a')).color,
                textColor: css(root.querySelector('.g17-meta')).color,
                font: css(root.querySelector('section')).fontFamily,
                hostColor: css(document.getElementById('w-latest')).color,
                hostFont: css(document.body).fontFamily,
                linkDecoration: css(root.querySelector('.g17-item-title a')).textDecorationLine,
                hostList: css(document.querySelector('#host-list')).listStyleType,
                hostItemDisplay: css(document.querySelector('#host-list .g17-item')).display,
                themedLink: css(document.getElementById('themed').shadowRoot.querySelector('a')).color,
                themedBackground: css(document.getElementById('themed').shadowRoot.querySelector('section')).backgroundColor,
            };
        }"""
    )
    assert styles["itemDisplay"] == "list-item"
    assert styles["listStyle"] == "none"
    assert styles["titleSize"] != "60px"
    # the host's font and text colour are inherited (here the host forces red on everything)
    assert styles["linkColor"] == styles["hostColor"] == "rgb(255, 0, 0)"
    assert styles["font"] == styles["hostFont"] == "Georgia, serif"
    assert styles["linkDecoration"] == "underline"
    # The host's own list keeps the host's rules, though it borrows the widget's class names.
    assert styles["hostList"] == "square"
    assert styles["hostItemDisplay"] == "none"
    # Theming through CSS custom properties set on the container.
    assert styles["themedLink"] == "rgb(255, 209, 102)"
    assert styles["themedBackground"] == "rgb(25, 72, 106)"


def test_script_finds_its_own_url_without_current_script(site, browser):
    page = browser.new_page()
    try:
        page.goto(site["partner"] + "plain.html")
        page.wait_for_function("document.getElementById('w-only').shadowRoot?.querySelector('.g17-list')")
        titles = page.locator("#w-only .g17-item-title").all_text_contents()
        assert titles == [_snippet(site, "targets/17.9")["items"][0]["title"]]
    finally:
        page.close()


def test_demo_page_renders_its_widgets(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(site["base"] + "snippets/demo.html")
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-goal17]')].every(
                h => h.shadowRoot && h.shadowRoot.querySelector('.g17-list'))"""
        )
        assert page.locator("[data-goal17]").count() >= 4
        assert page.locator(".g17-fail").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    finally:
        page.close()


# -- layouts, options and states ------------------------------------------------------------------


def test_unknown_target_warns_and_keeps_the_partners_fallback(site, partner_page):
    page = partner_page["page"]
    widget = _widget(page, "w-unknown")
    assert widget["items"] == [] and widget["fail"] is None and widget["slot"]
    # the partner's own link is what the reader sees (slotted through the shadow root)
    box = page.evaluate("() => document.getElementById('own-link').getBoundingClientRect().height")
    assert box > 0
    assert any('unknown data-goal17="targets/17.20"' in w for w in partner_page["warnings"])
    assert not any("17.20" in path for path in site["requests"])  # nothing fetched for it


def test_compact_layout_is_titles_only(site, partner_page):
    widget = _widget(partner_page["page"], "w-compact")
    expected = _snippet(site, "latest")["items"][:3]
    assert [i["title"] for i in widget["items"]] == [i["title"] for i in expected]
    assert all(i["meta"] is None and i["summary"] is None and i["date"] is None for i in widget["items"])
    assert widget["heading"] is None  # data-heading="off"


def test_cards_show_thumbnails_target_names_and_an_own_heading(site, partner_page):
    # every thumbnail has loaded or failed (and a failed one has lost its src)
    partner_page["page"].wait_for_function(
        """() => [...document.getElementById('w-cards').shadowRoot.querySelectorAll('img')].every(
            i => !i.getAttribute('src') || (i.complete && i.naturalWidth > 0))"""
    )
    widget = _widget(partner_page["page"], "w-cards")
    expected = _snippet(site, "latest")["items"][:6]
    assert widget["heading"] == "Nytt från mål 17"
    with_image = [(w, e) for w, e in zip(widget["items"], expected, strict=True) if e.get("image")]
    assert with_image, "the corpus has updates with images"
    assert all(i["thumb"] for i in widget["items"])  # every card has its picture box, aligned
    for shown, item in with_image:
        if item["image"]["url"].startswith(site["base"]):
            assert shown["image"] == item["image"]["url"]
        else:  # img.example does not answer: an empty thumbnail box, no broken-image icon
            assert shown["image"] is None
    for shown, item in zip(widget["items"], expected, strict=True):
        for target in item["targets"]:
            assert target["name"] in shown["meta"]  # names, not bare numbers
        assert shown["namesLang"] == item["lang"]  # the names are in the update's language, marked so
        assert shown["summary"] is None  # cards: no summary unless data-summary="short"
    images = partner_page["page"].evaluate(
        """() => [...document.getElementById('w-cards').shadowRoot.querySelectorAll('img')].map(
            i => [i.getAttribute('alt'), i.getAttribute('width'), i.getAttribute('height')])"""
    )
    assert images and all(alt == "" and w and h for alt, w, h in images)


def test_summary_short_is_two_lines_and_off_is_none(site, partner_page):
    page = partner_page["page"]
    assert all(i["summary"] is None for i in _widget(page, "w-nosummary")["items"])
    lines = page.evaluate(
        """() => [...document.getElementById('w-latest').shadowRoot.querySelectorAll('.g17-summary')].map(
            p => p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight))"""
    )
    assert lines and all(n <= 2.05 for n in lines), lines
    full = [i["summary"] for i in _snippet(site, "latest")["items"][:3] if i["summary"]]
    assert [
        i["summary"] for i in _widget(page, "w-latest")["items"] if i["summary"]
    ] == full  # text kept whole for readers


class _Gated(_Cors):
    """Our site, but snippet JSON waits until the test opens the gate: the loading state, held."""

    gate = threading.Event()

    def do_GET(self) -> None:
        if self.path.endswith(".json"):
            self.gate.wait(60)
        super().do_GET()


LOADING_PAGE = """<!DOCTYPE html>
<html lang="LANG"><head><meta charset="utf-8"><title>Laddning</title>
<style>body { font: 17px/1.5 Georgia, serif; margin: 0; padding: 8px; } .col { width: WIDTHpx; }</style></head>
<body><div class="col">
<div id="g-list" data-goal17="latest" data-limit="3"><a href="/">Nyheter om mål 17</a></div>
<p id="after-list">Text under listan</p>
<div id="g-compact" data-goal17="latest" data-limit="3" data-layout="compact" data-heading="off"></div>
<p id="after-compact">Text under</p>
<div id="g-cards" data-goal17="latest" data-limit="3" data-layout="cards"></div>
<p id="after-cards">Text under</p>
</div>
<script src="EMBED_URL" async></script>
</body></html>
"""


@pytest.fixture(scope="module")
def gated(site, tmp_path_factory) -> Iterator[str]:
    server = _serve(site["out"], _Gated)
    folder = tmp_path_factory.mktemp("gated")
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    for lang in ("sv", "en-GB"):
        for width in (300, 700):
            page = LOADING_PAGE.replace("EMBED_URL", base + "snippets/embed.js").replace("WIDTH", str(width))
            (folder / f"{lang}-{width}.html").write_text(page.replace("LANG", lang), encoding="utf-8")
    partner = _serve(folder, _Quiet)
    try:
        yield f"http://127.0.0.1:{partner.server_address[1]}/"
    finally:
        _Gated.gate.set()
        for one in (server, partner):
            one.shutdown()
            one.server_close()


LAYOUT_JS = """() => Object.fromEntries(['list', 'compact', 'cards'].map(k => [k, {
    height: document.getElementById('g-' + k).getBoundingClientRect().height,
    below: document.getElementById('after-' + k).getBoundingClientRect().top,
    fallbackShown: !!document.querySelector('#g-' + k + ' a') &&
                   document.querySelector('#g-' + k + ' a').getBoundingClientRect().height > 0,
    busy: !!document.getElementById('g-' + k).shadowRoot?.querySelector('section[aria-busy]'),
    words: document.getElementById('g-' + k).shadowRoot?.querySelector('section')?.textContent || '',
}]))"""


@pytest.mark.parametrize("width", [300, 700])
def test_loading_keeps_the_fallback_and_the_height(gated, browser, width):
    _Gated.gate.clear()
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    try:
        page.goto(gated + f"sv-{width}.html")
        page.wait_for_function(
            "() => ['list', 'compact', 'cards'].every(k => document.getElementById('g-' + k).shadowRoot)"
        )
        loading = page.evaluate(LAYOUT_JS)
        assert all(v["busy"] for v in loading.values())
        assert loading["list"]["fallbackShown"]  # the partner's link stays while the data is on its way
        assert "Hämtar nyheter" in loading["compact"]["words"]  # no fallback given: a quiet note
        _Gated.gate.set()
        page.wait_for_function(READY_JS, arg=["g-list", "g-compact", "g-cards"])
        shown = page.evaluate(LAYOUT_JS)
        for layout in ("list", "compact", "cards"):
            assert not shown[layout]["busy"] and not shown[layout]["fallbackShown"]
            # nothing below the widget moves when the news arrives
            assert abs(shown[layout]["height"] - loading[layout]["height"]) < 1, (layout, loading, shown)
            assert abs(shown[layout]["below"] - loading[layout]["below"]) < 1, layout
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"embed-layouts-{width}.png"), full_page=True)
    finally:
        _Gated.gate.set()
        page.close()


def test_language_comes_from_the_host_page(gated, browser):
    _Gated.gate.set()
    page = browser.new_page()
    try:
        page.goto(gated + "en-GB-700.html")
        page.wait_for_function(READY_JS, arg=["g-list"])
        widget = _widget(page, "g-list")
        assert widget["lang"] == "en" and "All updates" in widget["text"]
        # an English page shows English dates, also for Swedish updates
        assert all(
            re.search(
                r"\b(January|February|March|April|May|June|July|August|September|October|"
                r"November|December)\b",
                i["date"],
            )
            for i in widget["items"]
        )
    finally:
        page.close()


def test_without_shadow_dom_the_widget_renders_in_the_page_and_keeps_fallbacks(site, browser):
    page = browser.new_page()
    try:
        page.goto(site["partner"] + "noshadow.html")
        page.wait_for_function("document.querySelector('#w-plain .g17-item')")
        assert page.evaluate("!!document.getElementById('g17-style')")
        titles = page.locator("#w-plain .g17-item-title").all_text_contents()
        assert titles == [i["title"] for i in _snippet(site, "targets/17.9")["items"][:2]]
        assert page.locator("#w-plain >> text=Egen länk").count() == 0  # replaced once the data came
        assert page.locator("#w-plain-unknown a").all_text_contents() == ["Egen länk kvar"]
    finally:
        page.close()


def test_broken_json_and_a_missing_target_file_fail_with_a_link_that_says_where(site, partner_page):
    page = partner_page["page"]
    garbled = _widget(page, "w-garbled")
    assert garbled["items"] == [] and garbled["fail"] == site["base"]
    assert garbled["failText"] == "Gå till nyheterna om mål 17"
    target = _widget(page, "w-target-fail")
    assert target["lang"] == "en" and target["fail"] == site["base"] + "targets/17.4/"
    assert target["failText"] == "Go to the news on target 17.4"
    assert "could not be shown" in target["text"]
    # the failed box does not keep the room it reserved while loading
    height = page.evaluate("() => document.getElementById('w-target-fail').getBoundingClientRect().height")
    assert height < 120
