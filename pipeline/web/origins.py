"""Which site a browser says a request comes from, and whether the service accepts it (pure).

Browsers put the page's origin in ``Origin`` (on every cross-origin request and every POST) and
sometimes only a ``Referer``. The sign-up endpoint is the one place that decides on them, with
these rules, so no caller compares header strings by itself:

* an origin is compared as ``(scheme, host, port)``: lower case, the default port made explicit,
  so ``https://Partner.example:443`` is ``https://partner.example``;
* ``null`` (a sandboxed iframe, a ``data:`` or ``file:`` page, a redirect across sites, a page
  with ``Referrer-Policy: no-referrer``) names no site: it is **foreign**, and ``"*"`` in
  ``allowed_origins`` does not admit it (nobody can be told apart behind it);
* anything else that is not a serialised http(s) origin — a path or a trailing slash, user
  information, a query, another scheme, an empty or non-numeric port, spaces, several values — is
  malformed and also foreign: a browser never sends it, so only a forgery can;
* without ``Origin``, a ``Referer`` decides by its origin, under the same rules;
* with neither, the request is not from a browser page (a partner's server, curl): accepted, as
  no browser can be tricked into sending it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

_DEFAULT_PORT = {"http": 80, "https": 443}
# scheme://host[:port], nothing else; host: a DNS name, IPv4 or a bracketed IPv6 address.
_ORIGIN = re.compile(r"^(https?)://(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::([0-9]{1,5}))?$")


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = _DEFAULT_PORT[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")


def parse_origin(value: str | None) -> Origin | None:
    """A serialised http(s) origin as browsers send it, or None (``null`` and malformed values)."""
    if value is None:
        return None
    match = _ORIGIN.match(value.lower())
    if match is None:
        return None
    scheme, host, port = match.groups()
    number = int(port) if port else _DEFAULT_PORT[scheme]
    if not 0 < number <= 65535 or host.startswith(".") or ".." in host:
        return None
    return Origin(scheme, host, number)


def origin_of_url(url: str | None) -> Origin | None:
    """The origin of an absolute http(s) URL (a ``Referer``), or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
            return None
        port = parts.port or _DEFAULT_PORT[parts.scheme]
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parse_origin(f"{parts.scheme}://{host}:{port}")


def host_origin(scheme: str, host_header: str | None) -> Origin | None:
    """The origin a request was addressed to: its scheme and ``Host`` header."""
    if not host_header:
        return None
    return parse_origin(f"{scheme}://{host_header}")


def is_foreign(
    origin_header: str | None,
    referer_header: str | None,
    own: Iterable[Origin | None],
    allowed: Iterable[str],
) -> bool:
    """True when a browser page on a site that is neither ``own`` nor ``allowed`` sent the request.

    ``allowed`` is ``[web] allowed_origins`` as configured (``"*"``: any site that has an origin).
    """
    if origin_header is not None:
        claimed = parse_origin(origin_header)
    elif referer_header is not None:
        claimed = origin_of_url(referer_header)
    else:
        return False  # not sent by a browser page
    if claimed is None:
        return True  # "null" or malformed
    if claimed in {o for o in own if o is not None}:
        return False
    return not allows(allowed, claimed)


def allows(allowed: Iterable[str], origin: Origin | None) -> bool:
    """Whether ``allowed_origins`` admits ``origin`` (never ``None``: ``null`` or malformed)."""
    if origin is None:
        return False
    entries = list(allowed)
    return "*" in entries or origin in {parse_origin(entry) for entry in entries}
