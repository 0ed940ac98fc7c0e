"""What ammonia does with one ``href``/``src`` value, where that can be known without its ``url`` crate.

Ammonia asks ``Url::parse(value)``: *relative* (``RelativeUrlWithoutBase``, no scheme) goes to the
resolver; a parsed URL whose scheme is allowed is kept as written; anything else (a scheme not
allowed, or a parse error) loses the attribute. A scheme not allowed is dropped whichever way the
parse goes, so only an allowed scheme needs the parse's verdict, and that is given here only for
URLs in a strict shape it certainly accepts (``https://host.name:port/…``, ``mailto:…``).
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*").fullmatch
# "//host" or "//host:port", then the path, query or fragment (or nothing). The host is checked
# further below: labels of letters, digits and inner hyphens, the last starting with a letter
# (a number there makes the crate parse an IPv4 address), no punycode.
_AUTHORITY = re.compile(r"//([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(?=[/?#]|\Z)").match
_SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp", "file"})  # the url crate's "special" schemes
_UNCERTAIN = re.compile(r"[\x00-\x20\x7f]").search  # trimmed or removed by the parser: its affair


def url_kind(value: str, schemes: frozenset[str]) -> str | None:
    """ "relative", "keep", "drop", or None when the ``url`` crate's answer is not certain here."""
    if (not value.isprintable() or " " in value) and _UNCERTAIN(value):
        return None
    colon = value.find(":")
    if colon < 0 or not _SCHEME(value, 0, colon):
        return "relative"  # no scheme: the crate needs a base
    name = value[:colon].lower()
    if name not in schemes:
        return "drop"
    if name in ("http", "https"):
        authority = _AUTHORITY(value, colon + 1)
        if authority is None or not _plain_host(authority.group(1)):
            return None  # userinfo, IP addresses, punycode, "http:x": the crate's own rules
        port = authority.group(2)
        return "keep" if port is None or int(port) <= 65535 else None
    if name in _SPECIAL or value[colon + 1 : colon + 2] == "/":
        return None  # an authority to parse
    return "keep"  # mailto:, tel: …: an opaque path, which the crate never refuses


def _plain_host(host: str) -> bool:
    """A DNS name the crate takes as it is (after lowercasing): no IDNA, no IPv4 reading."""
    if host[0] in ".-" or host[-1] in ".-" or ".." in host or ".-" in host or "-." in host:
        return False
    last = host[host.rfind(".") + 1 :]
    return last[0].isalpha() and "xn--" not in host.lower()
