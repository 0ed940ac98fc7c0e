"""Newsletter benchmarks: personalised messages per second and SMTP delivery (issue 8).

They measure ``pipeline.newsletter.message`` and ``pipeline.newsletter.transports``. Until those
modules exist, each section is reported as *not measured* with the reason, so a table never
silently omits a figure the issue asks for.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

SECTIONS = (
    "newsletter issue build (Jinja → MJML → HTML)",
    "personalised messages/s, 10,000 and 100,000 subscribers, without and with DKIM",
    "SMTP delivery to local aiosmtpd, 1 and 4 connections, vs minimal smtplib client",
)


def messaging_sections(repeat: int, say: Callable[[str], None]) -> list[dict]:
    """One dict per figure: ``{"name", "measured": bool, "value" or "reason"}``."""
    missing = [
        name
        for name in ("pipeline.newsletter.message", "pipeline.newsletter.transports")
        if not _importable(name)
    ]
    if missing:
        return [
            {"name": name, "measured": False, "reason": f"{', '.join(missing)} not available yet"}
            for name in SECTIONS
        ]
    return [{"name": name, "measured": False, "reason": "benchmark not written yet"} for name in SECTIONS]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
