"""Shared by the newsletter, message and send tests: small real content folders and settings files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import NOW

LONG_SUMMARY = (
    "Åsa Öberg och kollegorna i Härnösand berättar om ett långvarigt partnerskap med en kommun i "
    "Tanzania, där kapacitetsutveckling, öppna data och ömsesidigt lärande står i centrum. Projektet "
    "har gett nya arbetssätt för budget, uppföljning och medborgardialog på båda håll under åren."
)[:300]


def write_settings(folder: Path, extra: str = "") -> Path:
    """A site.toml with its state folder inside ``folder``; ``extra`` is appended (e.g. a [newsletter] table)."""
    path = folder / "site.toml"
    path.write_text('[site]\nstate_dir = "state"\n' + extra, encoding="utf-8")
    return path


def write_updates(
    write_update,
    count: int,
    *,
    start: datetime = NOW,
    step_hours: int = 7,
    prefix: str = "nyhet",
    slug: str = "partnerskap",
):
    """``count`` updates of realistic size, newest at ``start`` minus one hour, spread over targets and languages."""
    for n in range(count):
        date = start - timedelta(hours=1 + n * step_hours)
        first = n % 19 + 1
        second = (n * 7) % 19 + 1
        targets = sorted({f"17.{first}", f"17.{second}"}, key=lambda t: int(t.split(".")[1]))
        write_update(
            f"{prefix}-{n:02d}-{slug}",
            title=f'"Kommuner i Västra Götaland stärker partnerskapen för hållbar utveckling, del {n}"',
            date=date.strftime("%Y-%m-%dT%H:%M"),
            targets=targets,
            lang="en" if n % 5 == 4 else "sv",
            summary=f'"{LONG_SUMMARY}"',
            body="Brödtext.\n",
        )
