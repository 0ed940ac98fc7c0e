"""Minting stable update identifiers (RFC 4151 ``tag:`` URIs).

An id is minted once, written into the file, and never derived from title, slug or path, so a
feed reader never sees an edited or renamed update as new.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

ID_RE = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")


def mint_id(host: str, today: date) -> str:
    return f"tag:{host},{today.isoformat()}:{secrets.token_hex(6)}"


def is_valid_id(value: str) -> bool:
    return len(value) <= 200 and bool(ID_RE.match(value))
