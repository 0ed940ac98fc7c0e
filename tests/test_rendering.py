"""Markdown rendering, sanitizing and URL absolutizing, through read_content."""

from __future__ import annotations

import re

import pytest

from pipeline.config.site import default_settings
from pipeline.reading.content import read_content
from tests.conftest import NOW

HOSTILE = """\
Hej <script>alert('x')</script> och <img src=x onerror="alert(1)"> bild.

<iframe src="https://evil.example/"></iframe>
<style>body{display:none}</style>
<svg onload="alert(1)"><circle r="3"/></svg>
<a href="javascript:alert(1)">js</a> <a href="data:text/html,<script>alert(1)</script>">data</a>
<a href="JaVaScRiPt:alert(1)" onclick="alert(2)">mixed</a>
<div style="position:fixed" onmouseover="alert(3)">div</div>
<form action="https://evil.example/"><input name="x"></form>
[md-js](javascript:alert(1)) ![img](data:image/png;base64,AAAA)
"""


def one(content_dir, settings):
    (update,) = read_content(content_dir, settings, NOW).updates
    return update


def test_hostile_html_never_survives(write_update, content_dir, settings):
    write_update("elak", body=HOSTILE)
    html = one(content_dir, settings).html.lower()
    for needle in (
        "<script",
        "alert(",
        "<iframe",
        "<style",
        "<svg",
        "javascript:",
        "data:",
        "onerror",
        "onclick",
        "onload",
        "onmouseover",
        "style=",
        "<form",
        "<input",
    ):
        assert needle not in html, needle


def test_markdown_extensions(write_update, content_dir, settings):
    body = """\
    Intro med fotnot[^1].

    | Kommun | Partner |
    | --- | --- |
    | Borås | Kenya |

    ```python
    print("hej")
    ```

    Stycke med attribut
    {: #sarskilt }

    ## En rubrik
    ## Två rubrik
    ## Tre rubrik

    [^1]: Fotnoten.
    """
    write_update("ext", body=body)
    update = one(content_dir, settings)
    assert "<table>" in update.html and "<td>Borås</td>" in update.html
    assert '<code class="language-python">' in update.html
    assert 'id="sarskilt"' in update.html
    assert 'id="fn:1"' in update.html
    assert 'href="https://mal17.example.se/updates/ext/#fn:1"' in update.html
    assert (
        'id="en-rubrik"' in update.html
        and 'href="https://mal17.example.se/updates/ext/#tva-rubrik"' in update.toc_html
    )


def test_short_updates_get_no_table_of_contents(write_update, content_dir, settings):
    write_update("kort", body="Text\n\n## Bara en\n")
    assert one(content_dir, settings).toc_html == ""


def test_relative_links_and_images_become_absolute(write_update, content_dir, settings):
    (content_dir / "media").mkdir()
    (content_dir / "media" / "karta.png").write_bytes(b"png")
    (content_dir / "2026").mkdir()
    write_update("2026/andra", id="tag:t,2026:andra", date="2026-01-01")
    write_update(
        "forsta",
        body="[andra](2026/andra.md#mitt) [rot](/om/) ![karta](media/karta.png) [sida](../om-oss/) "
        "[ext](https://skr.se/) [mejl](mailto:a@example.se) [ankare](#rubrik) [query](?q=1)\n",
    )
    result = read_content(content_dir, settings, NOW)
    html = next(u for u in result.updates if u.slug == "forsta").html
    hrefs = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert hrefs == [
        "https://mal17.example.se/updates/andra/#mitt",
        "https://mal17.example.se/om/",
        "https://mal17.example.se/media/karta.png",
        "https://mal17.example.se/updates/om-oss/",
        "https://skr.se/",
        "mailto:a@example.se",
        "https://mal17.example.se/updates/forsta/#rubrik",
        "https://mal17.example.se/updates/forsta/?q=1",
    ]
    assert result.warnings == []


@pytest.mark.parametrize("base", ["https://example.se/agenda2030/mal17/", "http://127.0.0.1:8000/"])
def test_base_url_with_a_path_is_respected(write_update, content_dir, tmp_path, base):
    settings = default_settings(base_url=base, state_dir=str(tmp_path))
    write_update("b", id="tag:t,2026:b")
    write_update("a", body="[b](b.md) [rot](/x/) [upp](../../../../x)\n")
    update = next(u for u in read_content(content_dir, settings, NOW).updates if u.slug == "a")
    hrefs = re.findall(r'href="([^"]+)"', update.html)
    assert all(h.startswith(base) for h in hrefs), hrefs
    assert hrefs[0] == base + "updates/b/"


def test_link_to_a_missing_file_is_a_warning_with_its_line(write_update, content_dir, settings):
    write_update("x", body="Första\n\nSe ![bild](media/saknas.png)\n")
    (warning,) = read_content(content_dir, settings, NOW).warnings
    assert str(warning) == "x.md:8: warning: link to a missing file: media/saknas.png"


def test_summary_from_front_matter_is_plain_text(write_update, content_dir, settings):
    write_update("s", summary='"Kort <b>sammanfattning</b> <script>x()</script>"')
    assert one(content_dir, settings).summary == "Kort sammanfattning"
