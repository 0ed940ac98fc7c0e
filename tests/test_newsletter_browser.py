"""The email's HTML in a real headless Chromium: readable in light and dark mode, on a desktop
client's width and a phone's.

The lxml check in test_newsletter.py reads the inline colours, which is what most clients show;
mail apps that honour ``prefers-color-scheme: dark`` (Apple Mail, iOS) apply the dark style
block instead, and only a browser computes what that leaves on screen.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.config.mail import newsletter_config
from pipeline.delivery.issues import IssueStore
from pipeline.outputs.newsletter.render import SLOTS, render_edition
from pipeline.reading.content import read_content
from tests.browser_helpers import launched_chromium, require_chromium
from tests.conftest import NOW
from tests.newsletter_helpers import write_updates
from tests.state_db import connect

require_chromium()


# Every visible element with its own text: its computed colour and the first opaque background
# behind it (walking up the ancestors), as WCAG contrast ratio.
CONTRASTS_JS = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width < 2 || box.height < 2 || style.visibility === 'hidden' || style.opacity === '0') continue;
    const fg = rgb(style.color).slice(0, 3), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({text: own.slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05), fg: style.color, bg: bg.join(',')});
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def subscriber_html(tmp_path: Path, content_dir: Path, write_update, settings) -> str:
    """The Swedish edition as one subscriber gets it (slots filled), with a few updates."""
    write_updates(write_update, 4)
    config = newsletter_config(settings)
    with connect(config) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    page = render_edition(issue, "sv", settings, config).html
    values = {
        "address": "lasare@example.se",
        "unsubscribe": "https://mal17.example.se/unsubscribe/abc.def",
        "preferences": "https://mal17.example.se/preferences/abc.def",
    }
    for name, marker in SLOTS.items():
        page = page.replace(marker, html.escape(values[name]))
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_is_readable_in_light_and_dark_mode(
    browser, tmp_path: Path, content_dir: Path, write_update, settings, scheme: str
) -> None:
    page_html = subscriber_html(tmp_path, content_dir, write_update, settings)
    for width in (600, 375):
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        try:
            page.set_content(page_html)
            contrasts = page.evaluate(CONTRASTS_JS)
            texts = " ".join(c["text"] for c in contrasts)
            # the footer is there and checked: why the reader gets it and the unsubscribe link
            assert "Du får det här nyhetsbrevet" in texts and "Avsluta prenumerationen" in texts
            poor = [c for c in contrasts if c["ratio"] < 4.5]
            assert not poor, (scheme, width, poor)
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        finally:
            page.close()
