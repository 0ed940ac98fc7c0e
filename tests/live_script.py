"""What "live script" means in an HTML output, checked with a real parser (html5lib).

Shared by the hostile-content property tests and the importer's tests: every element, attribute
and URL that could run script in a browser, so a test asserts on parsed markup, never on text
search (escaped text such as ``&lt;script&gt;`` is harmless and must not count).
"""

from __future__ import annotations

import re

import html5lib

BANNED_TAGS = {"script", "style", "iframe", "object", "embed", "base", "frame", "frameset", "applet"}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "data",
    "srcset",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def local_name(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def live_parts(markup: str) -> list[str]:
    """Every element, attribute and URL in ``markup`` that could run script, as readable strings."""
    document = html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)
    found: list[str] = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        tag = local_name(element.tag)
        attributes = {}
        for name, value in element.attrib.items():
            local = local_name(name)
            if name.startswith("{http://www.w3.org/1999/xlink}"):
                local = f"xlink:{local}"
            attributes[local] = value
        if tag in BANNED_TAGS or (tag == "meta" and "http-equiv" in attributes):
            found.append(f"<{tag} {sorted(attributes.items())}>{(element.text or '').strip()[:2000]}")
        for name, value in attributes.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES:
                squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
                for candidate in squeezed.split(",") if name == "srcset" else [squeezed]:
                    if candidate.startswith(BAD_SCHEMES):
                        found.append(f"<{tag} {name}={value!r}>")
    return found
