"""A plain published update for tests of what builders do with many updates (not of reading)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.reading.model import Update


def plain_update(
    number: int,
    date: datetime,
    targets: Iterable[str] = ("17.1",),
    lang: str = "sv",
    *,
    uid: str | None = None,
    fingerprint: str | None = None,
) -> Update:
    """Update ``u<number>`` dated ``date``, with a one-paragraph body and nothing optional."""
    return Update(
        id=uid if uid is not None else f"tag:t.example,2026:u{number}",
        slug=f"u{number}",
        title=f"U {number}",
        date=date,
        updated=date,
        lang=lang,
        targets=tuple(targets),
        tags=(),
        author=None,
        summary="s",
        html="<p>x</p>",
        toc_html="",
        feed_html="<p>x</p>",
        image=None,
        source=f"u{number}.md",
        url=f"https://mal17.example.se/updates/u{number}/",
        fingerprint=fingerprint if fingerprint is not None else f"f{number}",
    )
