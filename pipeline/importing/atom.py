"""Atom (RFC 4287): entries with ``text``, ``html`` and ``xhtml`` content, ``xml:lang`` and ``xml:base``."""

from __future__ import annotations

import copy
import html
from urllib.parse import urljoin

from lxml import etree

from pipeline.importing import timestamps
from pipeline.importing.model import Entry, Feed
from pipeline.importing.xmlparse import ATOM_NS, localname, text_of
from pipeline.reading.sanitize import plain_text

A = "{" + ATOM_NS + "}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def read(root: etree._Element, name: str) -> Feed:
    feed_base = root.get(XML_BASE)
    return Feed(
        format="Atom",
        title=text_construct(root.find(f"{A}title"), plain=True) or "",
        link=_alternate(root, feed_base),
        lang=root.get(XML_LANG),
        entries=tuple(_entry(e, root.get(XML_LANG), feed_base) for e in root.findall(f"{A}entry")),
    )


def _entry(entry: etree._Element, feed_lang: str | None, feed_base: str | None) -> Entry:
    base = urljoin(feed_base or "", entry.get(XML_BASE) or "") or None
    content = entry.find(f"{A}content")
    notes = []
    if content is not None and content.get("src"):
        notes.append(f"content is elsewhere ({content.get('src')}): only the summary was imported")
        content = None
    authors = [text_of(a.find(f"{A}name")) for a in entry.findall(f"{A}author")]
    categories = [c.get("label") or c.get("term") for c in entry.findall(f"{A}category")]
    updated = timestamps.iso(text_of(entry.find(f"{A}updated")))
    published = timestamps.iso(text_of(entry.find(f"{A}published"))) or updated
    lang = (content.get(XML_LANG) if content is not None else None) or entry.get(XML_LANG) or feed_lang
    link = _alternate(entry, base)
    content_base = content.get(XML_BASE) if content is not None else None
    return Entry(
        line=entry.sourceline or 1,
        original_id=text_of(entry.find(f"{A}id")),
        link=link,
        title=text_construct(entry.find(f"{A}title"), plain=True) or "",
        published=published,
        updated=updated if updated and published and updated > published else None,
        author=", ".join(a for a in authors if a) or None,
        categories=tuple(c.strip() for c in categories if c and c.strip()),
        summary_html=text_construct(entry.find(f"{A}summary")) if content is not None else None,
        content_html=text_construct(content)
        if content is not None
        else text_construct(entry.find(f"{A}summary")),
        lang=lang,
        notes=tuple(notes),
        # RFC 4287: relative references resolve against the xml:base in scope; a feed without
        # one means the item's page, as feed readers take it.
        base=urljoin(base or "", content_base) if content_base else (base or link),
    )


def _alternate(element: etree._Element, base: str | None) -> str | None:
    for link in element.findall(f"{A}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return urljoin(base or "", link.get("href"))
    return base


def text_construct(element: etree._Element | None, plain: bool = False) -> str | None:
    """An Atom text construct as HTML (or, with ``plain``, as text)."""
    if element is None:
        return None
    kind = element.get("type", "text")
    if kind == "xhtml":
        markup = _xhtml_inner(element)
        if plain:
            return plain_text(markup) or None
        return markup or None
    value = "".join(element.itertext()).strip()
    if not value:
        return None
    if kind == "html" or kind.endswith(("/html", "+xml", "/xhtml")):
        return plain_text(value) if plain else value
    return (
        value
        if plain
        else "".join(f"<p>{html.escape(p.strip())}</p>" for p in value.split("\n\n") if p.strip())
    )


def _xhtml_inner(element: etree._Element) -> str:
    """The children of the ``<div xmlns="http://www.w3.org/1999/xhtml">`` as plain HTML."""
    div = next((child for child in element if localname(child) == "div"), None)
    holder = copy.deepcopy(div if div is not None else element)
    for node in holder.iter():
        if isinstance(node.tag, str):
            node.tag = localname(node)
            for key in list(node.attrib):
                if key.startswith("{"):
                    del node.attrib[key]
    etree.cleanup_namespaces(holder)
    parts = [html.escape(holder.text or "", quote=False)]
    parts += [etree.tostring(child, method="html", encoding="unicode", with_tail=True) for child in holder]
    return "".join(parts).strip()
