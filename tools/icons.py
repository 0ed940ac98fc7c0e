"""``python -m tools.icons [--templates DIR]``: the PNG sizes of ``static/icon.svg``, remade.

The site's icon is designed once, as ``templates/static/icon.svg`` (the goal 17 colour #19486A
and "17", drawn as shapes so no font is needed). Feeds, browsers and mail programs want PNGs in
fixed sizes (:data:`pipeline.outputs.feeds.icons.SIZES`), so this script photographs the SVG with
Debian's headless Chromium (Playwright) at each size and stores the PNGs next to it, made small
with Pillow. An organisation with its own ``[site] templates_dir`` puts its own ``icon.svg`` in
``DIR/static/`` and runs ``python -m tools.icons --templates DIR``. Commit the PNGs; a build only
reads them. Needs the test and docs extras: ``pip install -e '.[test,docs]'``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def render(svg: str, size: int, browser) -> bytes:
    """The SVG at ``size``×``size`` pixels, transparent where the SVG draws nothing."""
    page = browser.new_page(viewport={"width": size, "height": size})
    try:
        page.set_content(
            "<!DOCTYPE html><style>html,body{margin:0;background:transparent}"
            "svg{display:block;width:100vw;height:100vh}</style>" + svg
        )
        return page.screenshot(omit_background=True)
    finally:
        page.close()


def small_png(png: bytes) -> bytes:
    """The same pixels, saved with the best zlib level and no metadata."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write ``icon-<size>.png`` for every size next to ``static/icon.svg``; one line per file."""
    from pipeline.outputs.feeds.icons import SIZES, png_name

    parser = argparse.ArgumentParser(prog="python -m tools.icons", description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", type=Path, default=REPO / "templates", help="templates folder")
    args = parser.parse_args(argv)
    static = args.templates / "static"
    source = static / "icon.svg"
    if not source.is_file():
        print(f"error: {source} does not exist: draw the icon as an SVG there first", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        print("error: needs Playwright and Pillow: pip install -e '.[test,docs]'", file=sys.stderr)
        return 2
    svg = source.read_text(encoding="utf-8")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                for size in SIZES:
                    target = static / png_name(size)
                    target.write_bytes(small_png(render(svg, size, browser)))
                    print(f"{target} ({size}×{size}, {target.stat().st_size} bytes)")
            finally:
                browser.close()
    except Error as exc:
        print(f"error: Chromium could not render {source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
