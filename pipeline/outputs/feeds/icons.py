"""The site's icon: a designed asset in ``templates/static/``, read here for feeds, pages and mails.

``static/icon.svg`` is the design (the goal 17 colour #19486A with "17"); ``static/icon-<size>.png``
are its PNG sizes, made from it by ``python -m tools.icons`` and committed, so a build needs no
image library. An organisation replaces them by putting its own files in the ``static/`` folder of
its ``[site] templates_dir``; a size it does not supply comes from the built-in templates.

Where each is used: 512 px is the JSON Feed ``icon`` and the Atom ``logo`` (``feeds/icon.png``);
64 px the Atom ``icon``, the RSS ``image``, the JSON Feed ``favicon`` (``feeds/favicon.png``),
``favicon.ico`` and the newsletter's brand; 180 px the pages' ``apple-touch-icon``; the SVG the
pages' scalable favicon.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pipeline.config.site import TEMPLATES_DIR

SIZES = (512, 180, 64, 32)
SVG_NAME = "icon.svg"
# The files the site publishes under static/ for its pages and mails (besides the feeds' copies).
PUBLISHED = (SVG_NAME, "icon-180.png", "icon-64.png", "icon-32.png")


def png_name(size: int) -> str:
    return f"icon-{size}.png"


@cache
def icon_file(name: str, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """``static/<name>`` of ``templates_dir``, else of the built-in templates."""
    for folder in (templates_dir, TEMPLATES_DIR):
        path = folder / "static" / name
        if path.is_file():
            return path.read_bytes()
    raise FileNotFoundError(f"{TEMPLATES_DIR / 'static' / name} is missing: run python -m tools.icons")


def png_icon(size: int, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """The ``size``×``size`` PNG of the icon (one of :data:`SIZES`)."""
    if size not in SIZES:
        raise ValueError(f"no {size} px icon; the sizes are {SIZES}")
    return icon_file(png_name(size), templates_dir)


def static_icons(templates_dir: Path = TEMPLATES_DIR) -> dict[str, bytes]:
    """The icon files a build publishes under ``static/`` (site-relative path → bytes)."""
    return {f"static/{name}": icon_file(name, templates_dir) for name in PUBLISHED}
