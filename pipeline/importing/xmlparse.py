"""Parsing an untrusted XML export safely, and telling which format it is.

lxml (libxml2) with entity substitution, DTD loading and network access off, and ``huge_tree``
off, so libxml2's own limits on depth and text size stay in force. A document that declares
entities is refused outright: no feed or WordPress export needs them, and they are how
"billion laughs" bombs and external-entity (XXE) reads are built. Every failure is one line.
"""

from __future__ import annotations

import re

from lxml import etree

from pipeline.importing.model import ImportFailed

ATOM_NS = "http://www.w3.org/2005/Atom"
WXR_NS_PREFIX = "http://wordpress.org/export/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FEED_ROOTS = ("rss", "feed", "RDF")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_START_TAG = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.:-]*)")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
    )


def parse(data: bytes, name: str) -> etree._Element:
    """The root element of ``data``; :class:`ImportFailed` naming ``name`` for anything broken."""
    if not data.strip():
        raise ImportFailed(f"{name}: the file is empty")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = " ".join((exc.msg or str(exc)).split())[:160]
        line = exc.lineno or 1
        text = data.rstrip()
        last_line = text.count(b"\n") + 1
        column = exc.position[1] if exc.position else 0
        at_end = line > last_line or (line == last_line and column + 2 >= len(text.rsplit(b"\n", 1)[-1]))
        truncated = "end of data" in message or "not finished" in message or at_end
        first = _first_tag(data)
        if first is None and not (truncated and text.lstrip().startswith(b"<?xml")):
            raise ImportFailed(f"{name}: not a feed (not XML: {message})") from None
        if first is not None and first not in FEED_ROOTS:
            raise ImportFailed(
                f"{name}: not a feed: the document is <{first}>, expected <rss> or <feed>"
            ) from None
        if "amplification" in message or "reference loop" in message:
            raise ImportFailed(
                f"{name}:{line}: refused: the file expands XML entities (an XML bomb?)"
            ) from None
        if truncated:
            raise ImportFailed(f"{name}:{line}: the file is truncated (XML ends early: {message})") from None
        raise ImportFailed(f"{name}:{line}: the feed is not well-formed XML: {message}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        raise ImportFailed(
            f"{name}: refused: the file declares XML entities (no feed or WordPress export needs them; "
            "they are how XML bombs and external-entity reads are made)"
        )
    return root


def _first_tag(data: bytes) -> str | None:
    """The local name of the first element, found without parsing (for broken documents)."""
    head = _COMMENT.sub(b"", data[:65536])
    match = _START_TAG.search(head)
    return match.group(1).decode("ascii").rsplit(":", 1)[-1] if match else None


def detect(root: etree._Element, name: str) -> str:
    """``"wxr"``, ``"rss"`` or ``"atom"``; anything else is not a feed."""
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    namespace = etree.QName(root).namespace if isinstance(root.tag, str) else None
    if tag == "rss" and namespace is None:
        if any((ns or "").startswith(WXR_NS_PREFIX) for ns in root.nsmap.values()):
            return "wxr"
        if root.find("channel") is None:
            raise ImportFailed(f"{name}:{root.sourceline}: not a feed: <rss> without a <channel>")
        return "rss"
    if tag == "feed" and namespace == ATOM_NS:
        return "atom"
    if tag == "RDF" and namespace == RDF_NS:
        raise ImportFailed(
            f"{name}: RSS 1.0 (RDF) feeds are not supported: use the site's RSS 2.0 or Atom feed"
        )
    raise ImportFailed(
        f"{name}:{root.sourceline}: not a feed: the document is <{tag}>, "
        "expected an RSS 2.0 <rss>, an Atom <feed> or a WordPress export"
    )


def text_of(element: etree._Element | None) -> str | None:
    """The element's text (CDATA included), stripped; None when absent or empty."""
    if element is None:
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def localname(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""
