"""Corpora and checks shared by the snippet tests and the embed browser test."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
from jsonschema import Draft202012Validator

# A 1×1 PNG, so the normal corpus has a local image with a real length and type.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

NORMAL = [
    # name, front matter, body
    (
        "kommunala-partnerskap",
        {
            "title": "Ny ansökningsomgång för kommunala partnerskap",
            "date": "2026-11-20T09:00",
            "targets": ["17.9", "17.17"],
            "image": "media/bild.png",
            "image_alt": "Två kommunpolitiker skakar hand",
        },
        "Kommuner kan nu söka stöd för **partnerskap** med kommuner i andra länder. "
        "Läs mer om [kapacitet](kapacitet.md).\n\n- ett\n- två\n",
    ),
    (
        "kapacitet",
        {"title": "Kapacitetsutveckling i partnerländer", "date": "2026-11-10T08:00", "targets": ["17.9"]},
        "Kapacitet byggs i *organisationer* och hos människor.\n",
    ),
    (
        "municipal-expertise",
        {
            "title": "Municipal expertise in development cooperation",
            "date": "2026-11-05T10:00",
            "lang": "en",
            "targets": ["17.17"],
        },
        "Swedish municipalities share their expertise. See [ICLD](https://icld.se/).\n",
    ),
    (
        "statlig-finansiering",
        {
            "title": "Statligt finansierat utvecklingssamarbete",
            "date": "2026-10-01T10:00",
            "updated": "2026-11-25T10:00",
            "targets": ["17.2", "17.3"],
        },
        "Utvecklingssamarbetet finansieras av staten.\n",
    ),
    (
        "voluntary-local-reviews",
        {
            "title": "Voluntary local reviews",
            "date": "2026-09-15T10:00",
            "lang": "en",
            "targets": ["17.18", "17.17"],
        },
        "Cities report on the goals.\n",
    ),
    (
        "cemr-uclg",
        {"title": "SKR i CEMR och UCLG", "date": "2026-09-01T10:00", "targets": ["17.16", "17.17"]},
        "Samarbete i europeiska och globala nätverk.\n",
    ),
]

SVG_DATA_URL = "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode()

HOSTILE_BODY = f"""\
Början <script>alert('script')</script> och <img src=x onerror="alert('img')"> slut.
<svg onload="alert('svg')"><circle r="1"/></svg>
<iframe src="https://evil.example/"></iframe><style>body{{display:none}}</style>

[js-länk](javascript:alert('md')) [JS-länk](JaVaScRiPt:alert(1)) [data-länk](data:text/html,<script>alert(1)</script>)
<a href="java&#x09;script:alert(1)">tab</a> <a href=" javascript:alert(1)">space</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="https://ok.example/" onclick="alert('click')">ok</a>

<p style="background:url(javascript:alert(1))" onmouseover="alert(1)">stil</p>
<math><mtext><script>alert('math')</script></mtext></math>
<form action="javascript:alert(1)"><button>x</button></form>
<noscript><p title="</noscript><img src=x onerror=alert('mxss')>"></p></noscript>
<object data="{SVG_DATA_URL}"></object><embed src="{SVG_DATA_URL}">
<!-- <script>alert('comment')</script> -->

Kod: `<script>alert('code')</script>` och `<img src=x onerror=alert(1)>` och `&lt;svg onload=alert(1)&gt;`.

![bild](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)
<details open ontoggle="alert('toggle')"><summary>s</summary></details>
"""

HOSTILE = [
    (
        "fientlig-1",
        {
            "title": "'Rubrik <script>alert(\"title\")</script> &lt;img src=x onerror=alert(1)&gt;'",
            "summary": "'Sammanfattning <img src=x onerror=alert(\"summary\")> &lt;script&gt;alert(2)&lt;/script&gt;'",
            "date": "2026-11-20T09:00",
            "targets": ["17.17"],
        },
        HOSTILE_BODY,
    ),
    (
        "hostile-2",
        {
            "title": "'<svg onload=alert(1)>Hostile</svg> English'",
            "date": "2026-11-19T09:00",
            "lang": "en",
            "targets": ["17.9", "17.17"],
            "image": "https://img.example/pic.jpg",
            "image_alt": "'<script>alert(\"alt\")</script>Alt <b onmouseover=alert(1)>text</b>'",
        },
        HOSTILE_BODY,
    ),
    (
        "fientlig-3",
        {"title": "Bara brödtext", "date": "2026-11-18T09:00", "targets": ["17.1"]},
        "<p onclick=\"alert('p')\">Klicka</p>\n\n" + HOSTILE_BODY,
    ),
]


def write_corpus(content_dir: Path, corpus: list, write_update) -> None:
    (content_dir / "media").mkdir(exist_ok=True)
    (content_dir / "media" / "bild.png").write_bytes(PIXEL_PNG)
    for name, fields, body in corpus:
        write_update(name, body=body, **fields)


def snippet_files(files: dict[str, bytes]) -> dict[str, Any]:
    """Every snippet JSON file (not the schemas), parsed."""
    return {
        path: json.loads(data)
        for path, data in files.items()
        if path.startswith("snippets/") and path.endswith(".json") and not path.endswith("schema.json")
    }


def validator(files: dict[str, bytes]) -> Draft202012Validator:
    schema = json.loads(files["snippets/schema.json"])
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from strings(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from strings(inner, f"{where}[{index}]")


EXECUTABLE = [
    re.compile(
        r"<\s*/?\s*(script|iframe|style|svg|object|embed|img|math|form|meta|base|link|noscript|details|button)\b",
        re.I,
    ),
    re.compile(r"\bon[a-z]+\s*=", re.I),
    re.compile(r"(javascript|vbscript)\s*:", re.I),
    re.compile(r"data:[a-z]+/", re.I),
    re.compile(r"alert\(", re.I),
]
ALLOWED_EXCERPT = {"p", "a", "em", "strong", "ul", "ol", "li"}


def executable_findings(document: Any) -> list[str]:
    """Anything in a snippet that could run, or that is left over from hostile markup."""
    found = []
    for where, text in strings(document):
        for pattern in EXECUTABLE:
            if pattern.search(text):
                found.append(f"{where}: {pattern.pattern!r} in {text[:120]!r}")
        if where.endswith("excerpt_html") and text:
            root = lxml.html.fragment_fromstring(text, create_parent="div")
            for element in root.iterdescendants():
                if element.tag not in ALLOWED_EXCERPT:
                    found.append(f"{where}: tag <{element.tag}>")
                allowed = {"href", "rel"} if element.tag == "a" else set()
                if set(element.attrib) - allowed:
                    found.append(f"{where}: attributes {sorted(element.attrib)} on <{element.tag}>")
                if element.tag == "a" and not re.match(r"^(https?://|mailto:)", element.get("href", "")):
                    found.append(f"{where}: link {element.get('href')!r}")
    return found
