"""The site's icon is the designed asset in templates/static/, used by feeds, pages and mails, and an
organisation's own templates folder replaces it. Real builds through the CLI, images read with Pillow."""

from __future__ import annotations

import io
import json
import shutil
import struct
from pathlib import Path

import lxml.html
from lxml import etree
from PIL import Image

from pipeline.cli import main
from pipeline.config.site import TEMPLATES_DIR
from pipeline.outputs.feeds.icons import SIZES, png_name

NOW = "2026-11-27T12:00"
NAVY = (0x19, 0x48, 0x6A)


def build(tmp_path: Path, content_dir: Path, write_update, config: Path | None = None) -> Path:
    write_update("a", date="2026-10-01T10:00", targets=["17.9"])
    out = tmp_path / "out"
    args = ["build", "--content", str(content_dir), "--out", str(out), "--now", NOW, "-q"]
    assert main(args + (["--config", str(config)] if config else [])) == 0
    return out


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGBA")


def test_the_committed_pngs_are_the_svg_in_every_size():
    static = TEMPLATES_DIR / "static"
    svg = etree.parse(str(static / "icon.svg")).getroot()
    assert svg.get("viewBox") == "0 0 512 512"
    assert "#19486A" in (static / "icon.svg").read_text()
    for size in SIZES:
        png = image((static / png_name(size)).read_bytes())
        assert png.size == (size, size)
        centre_left = png.getpixel((max(1, round(size * 0.06)), size // 2))[:3]  # left of the ring
        assert all(abs(a - b) <= 12 for a, b in zip(centre_left, NAVY, strict=True)), (size, centre_left)
        assert png.getpixel((0, 0))[3] == 0  # rounded corner: transparent


def test_feeds_pages_and_mails_point_at_the_icon(tmp_path, content_dir, write_update):
    out = build(tmp_path, content_dir, write_update)
    static = TEMPLATES_DIR / "static"
    assert (out / "feeds" / "icon.png").read_bytes() == (static / "icon-512.png").read_bytes()
    assert (out / "feeds" / "favicon.png").read_bytes() == (static / "icon-64.png").read_bytes()
    for name in ("icon.svg", "icon-180.png", "icon-64.png", "icon-32.png"):
        assert (out / "static" / name).read_bytes() == (static / name).read_bytes(), name
    ico = (out / "favicon.ico").read_bytes()
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 1) and ico[22:] == (static / "icon-64.png").read_bytes()

    page = lxml.html.parse(str(out / "index.html")).getroot()
    links = {(link.get("rel"), link.get("type")): link.get("href") for link in page.iter("link")}
    assert links[("icon", "image/svg+xml")] == "static/icon.svg"  # relative to the page (index.html)
    assert links[("apple-touch-icon", None)] == "static/icon-180.png"
    feed = json.loads((out / "feeds" / "feed.json").read_text())
    assert feed["icon"].endswith("/feeds/icon.png") and feed["favicon"].endswith("/feeds/favicon.png")
    atom = etree.parse(str(out / "feeds" / "atom.xml")).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.findtext("a:icon", namespaces=ns).endswith("/feeds/favicon.png")
    assert atom.findtext("a:logo", namespaces=ns).endswith("/feeds/icon.png")
    rss = etree.parse(str(out / "feeds" / "rss.xml")).getroot()
    assert rss.findtext("channel/image/url").endswith("/feeds/favicon.png")


def test_the_newsletter_brand_shows_the_icon_before_the_site_name(tmp_path, content_dir, write_update):
    from pipeline.config.mail import newsletter_config
    from pipeline.config.site import load_settings
    from pipeline.delivery.issues import IssueStore
    from pipeline.outputs.newsletter.render import render_edition
    from pipeline.reading.content import read_content
    from tests.conftest import NOW as CLOCK
    from tests.newsletter_helpers import write_settings
    from tests.state_db import connect

    write_update("a", date="2026-11-20T09:00", targets=["17.9"])
    settings = load_settings(write_settings(tmp_path))
    config = newsletter_config(settings)
    with connect(config) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, CLOCK).updates, CLOCK)
    for lang in ("sv", "en"):
        edition = render_edition(issue, lang, settings, config)
        brand = lxml.html.fromstring(edition.html).xpath("//body//a")[0]
        assert brand.text_content() == settings.title
        assert brand.xpath("img/@src") == [settings.url("static/icon-64.png")]


def test_an_organisations_templates_folder_replaces_the_icon(tmp_path, content_dir, write_update):
    own = tmp_path / "own-templates"
    shutil.copytree(TEMPLATES_DIR, own)
    red = io.BytesIO()
    Image.new("RGBA", (64, 64), (200, 0, 0, 255)).save(red, format="PNG")
    (own / "static" / "icon-64.png").write_bytes(red.getvalue())
    (own / "static" / "icon-512.png").unlink()  # a size it does not supply: the built-in one
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\ntemplates_dir = "{own}"\n')
    out = build(tmp_path, content_dir, write_update, config)
    assert (out / "feeds" / "favicon.png").read_bytes() == red.getvalue()
    assert (out / "static" / "icon-64.png").read_bytes() == red.getvalue()
    assert (out / "favicon.ico").read_bytes()[22:] == red.getvalue()
    assert (out / "feeds" / "icon.png").read_bytes() == (
        TEMPLATES_DIR / "static" / "icon-512.png"
    ).read_bytes()
