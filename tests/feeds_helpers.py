"""Corpora, builders and offline validators shared by the feed tests.

The validators are the checks we can run here in place of the W3C feed validator: feedparser
(``bozo == 0``), lxml well-formedness, Atom against the RFC 4287 RELAX NG grammar, JSON Feed
against a JSON Schema written from the 1.1 spec, and html5lib in strict mode on every HTML
payload (the W3C validator parses embedded HTML the same way and warns on any parse error).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import html5lib
import lxml.html
from html5lib.html5parser import HTMLParser
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree

from pipeline.caching.deferred import materialize_all
from pipeline.config.site import Settings
from pipeline.outputs import feeds
from pipeline.reading.content import read_content
from tests.conftest import NOW, front_matter

SCHEMAS = Path(__file__).resolve().parent / "schemas"
ATOM = "{http://www.w3.org/2005/Atom}"

PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

HOSTILE_BODY = """\
Början <script>alert('script')</script> och <img src=x onerror="alert('img')"> slut.

<svg onload="alert('svg')"><circle r="1"/></svg>
<iframe src="https://evil.example/"></iframe>
<style>body { display: none }</style>
<p style="background: url(javascript:alert(1))" onclick="alert(2)"><button><div>nästlad</div></button></p>
<form action="https://evil.example/"><input name="x"></form>
<object data="https://evil.example/x.swf"></object>

[skript](javascript:alert('link')) och [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
och <a href="JaVaScRiPt:alert(3)">blandat</a> och <a href=" javascript:alert(4)">mellanslag</a>.

Kod: `<script>` ska synas som text, &copy; och &amp; också.
"""

RELATIVE_BODY = """\
Se [nästa](hostile.md), [rot](/om/), [uppåt](../x/), [ankare](#rubrik) och <a href="sida/">html</a>.

![bild](media/pixel.png)

## Rubrik {#rubrik}

Text med emoji 🎉🇸🇪 och åäö.
"""

TRICKY = [
    # name, front matter, body
    (
        "hostile",
        {
            "title": '"Hostile </b> <script>alert(1)</script> & co"',
            "date": "2026-11-20T09:00",
            "targets": ["17.9", "17.17"],
            "tags": ["<b>fet</b>", "Q&A"],
            "author": '"Anna & <Co>"',
        },
        HOSTILE_BODY,
    ),
    (
        "relative",
        {
            "title": '"Emoji 🎉 och relativa länkar"',
            "date": "2026-11-19T09:00",
            "targets": ["17.1"],
            "image": "media/pixel.png",
            "image_alt": "En pixel",
        },
        RELATIVE_BODY,
    ),
    # Same timestamp as each other: the id decides the order (tag:…:same-a before …:same-b).
    ("same-b", {"title": "Samma tid B", "date": "2026-11-18T09:00", "targets": ["17.6"]}, "B.\n"),
    ("same-a", {"title": "Samma tid A", "date": "2026-11-18T09:00", "targets": ["17.6"]}, "A.\n"),
    (
        "english",
        {
            "title": "An English update",
            "date": "2026-11-17T09:00",
            "lang": "en",
            "targets": ["17.18"],
            "image": "https://images.example.org/photo.jpg",
            "image_alt": "A photo",
        },
        "Text in *English*.\n",
    ),
    ("no-targets", {"title": "Utan delmål", "date": "2026-11-16T09:00"}, "Ingen kategori.\n"),
    ("empty", {"title": "Bara en rubrik", "date": "2026-11-15T09:00", "targets": ["17.6"]}, ""),
]


def write_corpus(content_dir: Path, corpus=TRICKY, crlf_names: tuple[str, ...] = ("relative",)) -> None:
    """Write ``corpus`` into ``content_dir``; the files named in ``crlf_names`` get CRLF endings."""
    (content_dir / "media").mkdir(parents=True, exist_ok=True)
    (content_dir / "media" / "pixel.png").write_bytes(PIXEL_PNG)
    for name, fields, body in corpus:
        fields = {"id": f"tag:test.example,2026:{name}", **fields}
        text = front_matter(**fields) + body
        if name in crlf_names:
            text = text.replace("\n", "\r\n")
        (content_dir / f"{name}.md").write_bytes(text.encode("utf-8"))


def build_feeds(content_dir: Path, settings: Settings) -> dict[str, bytes]:
    content = read_content(content_dir, settings, NOW)
    return materialize_all(feeds.build(content.updates, settings))


def feed_documents(files: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    for path, data in sorted(files.items()):
        if path.endswith(("rss.xml", "atom.xml", "feed.json")):
            yield path, data


# --- validators -------------------------------------------------------------------------------


@cache
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


@cache
def jsonfeed_validator() -> Draft202012Validator:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validation_problems(path: str, data: bytes) -> list[str]:
    """Everything our offline validators find wrong with one feed document."""
    problems: list[str] = []
    if path.endswith(".json"):
        document = json.loads(data)
        problems += [f"{path}: schema: {e.message}" for e in jsonfeed_validator().iter_errors(document)]
        for item in document.get("items", []):
            problems += [f"{path}: {p}" for p in html_problems(item.get("content_html", ""))]
        return problems
    parsed = feedparser.parse(data)
    if parsed.bozo:
        problems.append(f"{path}: feedparser bozo: {parsed.bozo_exception!r}")
    root = etree.fromstring(data)  # raises on malformed XML
    if path.endswith("atom.xml") and not atom_schema().validate(root.getroottree()):
        problems.append(f"{path}: RELAX NG: {atom_schema().error_log}")
    for html in html_payloads(root):
        problems += [f"{path}: {p}" for p in html_problems(html)]
    return problems


def html_payloads(root: etree._Element) -> list[str]:
    """Every string in the document that a reader renders as HTML."""
    found = [
        el.text or "" for el in root.iter("description", "{http://purl.org/rss/1.0/modules/content/}encoded")
    ]
    found += [
        el.text or ""
        for el in root.iter(f"{ATOM}content", f"{ATOM}title", f"{ATOM}summary", f"{ATOM}subtitle")
        if el.get("type") == "html"
    ]
    return found


def html_problems(html: str) -> list[str]:
    """Strict HTML5 parse errors, plus anything executable or relative in the HTML."""
    problems = []
    parser = HTMLParser(strict=True, tree=html5lib.getTreeBuilder("etree"))
    try:
        parser.parseFragment(html)
    except Exception as exc:  # html5lib raises ParseError on the first error in strict mode
        problems.append(f"HTML parse error: {exc} in {html[:120]!r}")
    if not html.strip():
        return problems
    fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in fragment.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("script", "style", "iframe", "object", "embed", "svg", "form"):
            problems.append(f"forbidden element <{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or name.lower() == "style":
                problems.append(f"forbidden attribute {name}= on <{element.tag}>")
            if name.lower() in ("href", "src", "action", "srcset", "poster", "cite"):
                problems += url_problems(value)
    return problems


def url_problems(url: str) -> list[str]:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https", "mailto", "tel") or (
        parts.scheme in ("http", "https") and not parts.netloc
    ):
        return [f"URL not absolute http(s): {url!r}"]
    return []


def xml_urls(root: etree._Element) -> list[str]:
    """URLs the feed itself carries (links, enclosures, ids that are URLs, icons)."""
    urls = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("href", "url", "domain", "scheme", "uri"):
            if element.get(name):
                urls.append(element.get(name))
        local = etree.QName(element).localname
        if local in ("link", "icon", "logo", "uri", "url", "docs") and element.text and element.text.strip():
            urls.append(element.text.strip())
    return urls


def json_urls(document: Any) -> list[str]:
    urls = []
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, str) and (
                key.endswith("url") or key in ("icon", "favicon", "image", "scheme")
            ):
                urls.append(value)
            else:
                urls += json_urls(value)
    elif isinstance(document, list):
        for value in document:
            urls += json_urls(value)
    return urls


EXECUTABLE = re.compile(rb"<script|javascript:|\bon[a-z]+\s*=|<iframe|<svg|data:text", re.IGNORECASE)


def executable_text(data: bytes) -> list[str]:
    """Raw-byte scan: markup that could execute, in any form a careless consumer might decode."""
    return [m.group(0).decode() for m in EXECUTABLE.finditer(data)]
