"""``python -m tools.screenshots``: the pictures in docs/img/, remade from the example content.

Starts the real preview (``python -m pipeline serve`` on a free port, with its own state folder
in a temporary directory), serves a made-up partner page with the embed from a second origin,
and photographs with Debian's headless Chromium (Playwright): the front page, an update page, a
target page, a newsletter (desktop and phone), the sign-up form and the embed on the partner page.
Each PNG is reduced to a small palette (Pillow), so the set stays a few hundred KB; the sizes are
printed. Run it after a design change and commit docs/img/. Needs the test and docs extras:
``pip install -e '.[test,docs]'``.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
NOW = "2026-11-27T12:00"  # fixed, so the pictures change only when the design or content does
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
COLOURS = 64

# (file name, path on the preview, viewport)
SHOTS = [
    ("front-desktop.png", "", DESKTOP),
    ("front-phone.png", "", PHONE),
    ("update-desktop.png", "updates/skr-i-cemr-och-uclg/", DESKTOP),
    ("target-desktop.png", "targets/17.17/", DESKTOP),
    ("target-phone.png", "targets/17.17/", PHONE),
    ("newsletter-desktop.png", "newsletters/1/", DESKTOP),
    ("newsletter-phone.png", "newsletters/1/", PHONE),
    ("signup-phone.png", "subscribe?targets=17.17", PHONE),
]
PARTNER_SHOT = ("embed-partner-desktop.png", DESKTOP)

PARTNER_PAGE = """<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Internationellt samarbete – Exempelkommun</title>
<style>
  body {{ margin: 0; font: 17px/1.55 Georgia, "Times New Roman", serif; color: #222; background: #faf8f4; }}
  header {{ background: #2d5a27; color: #fff; padding: 1rem 2rem; font: 700 1.3rem system-ui, sans-serif; }}
  .wrap {{ display: grid; grid-template-columns: minmax(0, 1fr) 20rem; gap: 2.5rem; max-width: 64rem;
           margin: 0 auto; padding: 1.5rem 2rem; }}
  aside {{ border-top: 4px solid #2d5a27; padding-top: .5rem; }}
  h1 {{ font-size: 2rem; margin-top: 0; }}
  @media (max-width: 50rem) {{ .wrap {{ grid-template-columns: 1fr; }} }}
</style>
</head>
<body>
<header>Exempelkommun</header>
<div class="wrap">
  <main>
    <h1>Internationellt samarbete</h1>
    <p>Exempelkommun samarbetar med kommuner i Tanzania och Moldavien om vatten, avfall och
    lokal demokrati. Arbetet är en del av kommunens genomförande av Agenda 2030.</p>
    <p>Här berättar vi om våra partnerskap, vad vi har lärt oss och hur du kan engagera dig.
    Kontakta kommunens internationella samordnare om du vill veta mer.</p>
  </main>
  <aside>
    <h2>Nyheter om partnerskap</h2>
    <div data-goal17="targets/17.17" data-limit="3"><a href="{base}targets/17.17/">Nyheter om delmål 17.17</a></div>
  </aside>
</div>
<script src="{base}snippets/embed.js" async></script>
</body>
</html>
"""


def start_preview(state: Path) -> tuple[subprocess.Popen, str]:
    config = state / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{state / "state"}"\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--config", str(config), "--content", "content"]
        + ["--port", "0", "--now", NOW, "--no-watch", "-q"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = process.stdout.readline()
    while first.startswith("warning: "):  # the development secret on loopback: expected here
        first = process.stdout.readline()
    if not first.startswith("preview of "):
        process.kill()
        raise SystemExit(f"error: the preview did not start: {first}{process.stdout.read()}")
    return process, first.split(" at ", 1)[1].split(" ", 1)[0]


def start_partner(folder: Path, base: str) -> tuple[ThreadingHTTPServer, str]:
    (folder / "index.html").write_text(PARTNER_PAGE.format(base=base), encoding="utf-8")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def small_png(data: bytes) -> bytes:
    """The screenshot with a ``COLOURS``-colour palette: a tenth of the bytes, text still crisp."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    reduced = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def shoot(browser, url: str, viewport: dict, wait_for: str | None = None) -> bytes:
    context = browser.new_context(
        viewport=viewport, device_scale_factor=1, color_scheme="light", locale="sv-SE"
    )
    try:
        page = context.new_page()
        page.goto(url, wait_until="networkidle", timeout=60_000)
        if wait_for:
            page.wait_for_function(wait_for, timeout=30_000)
        return page.screenshot(full_page=False)
    finally:
        context.close()


EMBED_LOADED = (
    "() => { const host = document.querySelector('[data-goal17]');"
    " const root = host && (host.shadowRoot || host);"
    " return !!root.querySelector('li, .g17-item, ol, ul'); }"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", default=str(REPO / "docs/img"), help="folder for the PNGs (default: docs/img)"
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: Debian's chromium is needed at {CHROMIUM}", file=sys.stderr)
        return 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("error: playwright is needed: pip install -e '.[test,docs]'", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="goal17-shots-"))
    process, base = start_preview(work)
    partner, partner_url = start_partner(work, base)
    total = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            try:
                shots = [(name, base + path, viewport, None) for name, path, viewport in SHOTS]
                name, viewport = PARTNER_SHOT
                shots.append((name, partner_url, viewport, EMBED_LOADED))
                for name, url, viewport, wait in shots:
                    data = small_png(shoot(browser, url, viewport, wait))
                    (out / name).write_bytes(data)
                    total += len(data)
                    print(
                        f"{out / name}: {viewport['width']}×{viewport['height']}, {len(data) / 1024:.0f} KB"
                    )
            finally:
                browser.close()
    finally:
        partner.shutdown()
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(SHOTS) + 1} pictures, {total / 1024:.0f} KB in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
