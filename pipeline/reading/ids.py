"""Update identifiers: minting RFC 4151 ``tag:`` URIs, and mapping short ids onto them.

An id is minted once, written into the file, and never derived from title, slug or path, so a
feed reader never sees an edited or renamed update as new.

Many organisations already number their news (``sdg17-2024-015``). Such a *short id* is accepted
and mapped to ``tag:AUTHORITY:sdg17-2024-015``, where AUTHORITY is ``[site] id_authority``
(``DNSname,date`` as RFC 4151 defines it). The mapping is a pure function of the short id and the
authority: set the authority once and the feed ids stay the same when the site moves to another
host or the file is renamed or retitled. Without it the authority is derived from the base URL's
host and the fixed date :data:`DEFAULT_AUTHORITY_DATE`, which is stable only while the host is.

A short id is 1–100 characters of ASCII letters, digits, ``.``, ``_`` and ``-``, starting with a
letter or digit (:data:`SHORT_ID_RE`). It never contains ``:``, so it can never be mistaken for a
URI, and every short id is a valid tag ``specific`` part without escaping. Ids that are already
URIs (``tag:``, ``urn:``, ``https:`` …) are kept exactly as written.
"""

from __future__ import annotations

import re
from datetime import date

ID_RE = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")
MAX_ID_LENGTH = 200
SHORT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SHORT_ID_RULE = "1–100 of A–Z a–z 0–9 . _ -, starting with a letter or digit"
# The date of the derived authority: fixed, so the derived ids never change with the calendar.
DEFAULT_AUTHORITY_DATE = "2026"
# RFC 4151: taggingEntity = authorityName "," date; authorityName = DNSname / emailAddress;
# date = year ["-" month ["-" day]]. Lower case only, so equal authorities are equal strings.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = rf"{_LABEL}(?:\.{_LABEL})*"
_AUTHORITY_RE = re.compile(
    rf"(?:{_DNS_NAME}|[a-z0-9._%+-]+@{_DNS_NAME}),\d{{4}}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?"
)


def mint_id(host: str, today: date) -> str:
    import secrets  # with hmac and random, 5-15 ms to import: only `new` mints an id

    return f"tag:{host},{today.isoformat()}:{secrets.token_hex(6)}"


def is_valid_id(value: str) -> bool:
    """Is ``value`` an id as it may stand in a feed: a URI without spaces, at most 200 characters."""
    return len(value) <= MAX_ID_LENGTH and bool(ID_RE.match(value))


def is_short_id(value: str) -> bool:
    return bool(SHORT_ID_RE.fullmatch(value))


def is_tag_authority(value: str) -> bool:
    """``example.se,2026`` or ``news@example.se,2026-01-31``: a valid RFC 4151 tagging entity."""
    return bool(_AUTHORITY_RE.fullmatch(value))


def default_authority(host: str) -> str:
    """The authority used when ``[site] id_authority`` is not set: ``HOST,2026``."""
    return f"{host.lower()},{DEFAULT_AUTHORITY_DATE}"


def canonical_id(value: str, authority: str) -> str | None:
    """The id a feed carries for ``value`` as written: a URI unchanged, a short id mapped to
    ``tag:AUTHORITY:value``; None when ``value`` is neither."""
    if is_valid_id(value):
        return value
    if is_short_id(value):
        return f"tag:{authority}:{value}"
    return None
