"""Shared by the newsletter, message and send tests: small real content folders and settings files."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

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


# -- a real SMTP server on loopback ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """aiosmtpd handler that keeps every accepted message; ``refuse`` maps an address to a reply
    (e.g. ``"550 5.1.1 no such user"``); ``delay`` slows each DATA down."""

    def __init__(self, delay: float = 0.0):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.rcpt_attempts: Counter[str] = Counter()
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts[address] += 1
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def recipients(self) -> Counter[str]:
        with self.lock:
            return Counter(rcpt for rcpts, _ in self.messages for rcpt in rcpts)


@contextmanager
def smtp_server(recorder: Recorder, **smtp_parameters):
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **smtp_parameters)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def smtp_settings(folder: Path, port: int, extra: str = "", security: str = "none") -> Path:
    return write_settings(
        folder,
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\nrate = 0\ntimeout = 10\n'
        + extra,
    )
