"""Which language a page is in: the subscriber's, else what the browser asks for, else the site's.

``Accept-Language`` is parsed leniently (RFC 9110 §12.5.4: tags with optional q-values); a
malformed header never fails a request, it just falls back to the default.
"""

from __future__ import annotations

from pipeline.config.site import LANGUAGES

MAX_HEADER = 500


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of ``sv``/``en`` for an ``Accept-Language`` header; ``default`` when none fits."""
    if not accept_language or len(accept_language) > MAX_HEADER:
        return default
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if primary == "nb" or primary == "nn" or primary == "no" or primary == "da":
            primary, quality = "sv", quality * 0.9  # Scandinavian readers: Swedish before English
        if primary not in LANGUAGES or not 0 < quality <= 1:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else default


def choose(*candidates: str | None, default: str) -> str:
    """The first candidate that is a supported language code."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return default
