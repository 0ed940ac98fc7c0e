"""Test helpers for the subscription service: uvicorn on a loopback port, a real aiosmtpd mailbox.

``running_service(tmp_path, ...)`` writes a site.toml whose ``[newsletter] transport`` is SMTP to a
real aiosmtpd server on 127.0.0.1, starts ``create_app`` under uvicorn in a thread on a free
loopback port (the settings' base URL is that port, so links in mails work as they are) and
yields a :class:`Service` with an httpx client, the captured mail and a movable clock.
"""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller

from pipeline.config.site import Settings, load_settings
from pipeline.stores.subscribers import Subscriber, SubscriberStore
from pipeline.web.app import create_app
from tests.conftest import NOW

SECRET = "web-test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._changed:
            self.messages.append(
                (list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content))
            )
            self._changed.notify_all()
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first ``count`` messages, parsed; fails if they do not arrive in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self._changed.wait(left)
            return [
                email.message_from_bytes(data, policy=default_policy) for _, data in self.messages[:count]
            ]

    def to(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The first ``count`` messages to ``address`` (mail to several addresses may interleave)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [data for rcpts, data in self.messages if address in rcpts]
                if len(found) >= count:
                    return [email.message_from_bytes(data, policy=default_policy) for data in found[:count]]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages to {address}, got {len(found)}")
                self._changed.wait(left)

    def settle(self, pause: float = 0.3) -> int:
        """How many messages arrived once nothing more is coming (for "no mail was sent")."""
        time.sleep(pause)
        return len(self.messages)


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


def write_site(folder: Path, *, web_port: int, smtp_port: int | None, **web: Any) -> Path:
    """A site.toml for the service on ``web_port`` mailing through ``smtp_port`` (None: outbox)."""
    lines = ["[site]", f'base_url = "http://127.0.0.1:{web_port}/"', 'state_dir = "state"', ""]
    if smtp_port is not None:
        lines += ["[newsletter]", 'transport = "smtp"', ""]
        lines += ["[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'security = "none"', "rate = 0", ""]
    if web:
        lines.append("[web]")
        for key, value in web.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
            else:
                lines.append(f"{key} = {value}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[None]:
    """Run ``app`` under uvicorn in a thread on an already bound socket."""
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class RequestLog:
    """ASGI middleware that records each request's method, path, headers and answer status, so a
    test can wait for a request a browser sent from a frame it cannot observe reliably."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, dict[str, str], int]] = []
        self._changed = threading.Condition()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                with self._changed:
                    self.seen.append((scope["method"], scope["path"], headers, message["status"]))
                    self._changed.notify_all()
            await send(message)

        await self.app(scope, receive, sending)

    def wait(self, method: str, path: str, timeout: float = 60.0) -> tuple[dict[str, str], int]:
        """Headers and status of the first ``method path`` request; fails if none comes in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for seen_method, seen_path, headers, status in self.seen:
                    if (seen_method, seen_path) == (method, path):
                        return headers, status
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} {path} within {timeout} s; saw {self.seen}")
                self._changed.wait(left)


@dataclass
class Service:
    url: str
    settings: Settings
    mailbox: Mailbox
    clock: Clock
    client: httpx.Client
    config_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def store(self) -> SubscriberStore:
        return SubscriberStore.open(self.settings.state_dir)

    def subscriber(self, address: str) -> Subscriber | None:
        with self.store() as store:
            return store.find(address)

    def consent_events(self, address: str) -> list[str]:
        with self.store() as store:
            found = store.find(address)
            return [r.event for r in store.consent_records(found.uid)] if found else []

    def path(self, url: str) -> str:
        """The path of an absolute link made by the service (it must point at this server)."""
        assert url.startswith(self.url), url
        return url[len(self.url) - 1 :]

    def sign_up(self, address: str, **fields: Any) -> httpx.Response:
        return self.client.post("/subscribe", data={"email": address, **fields})


@contextmanager
def running_service(tmp_path: Path, *, mail: bool = True, **web: Any) -> Iterator[Service]:
    """The service over real HTTP with real SMTP (or the outbox with ``mail=False``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with smtp_server() as (mailbox, smtp_port):
        config_path = write_site(tmp_path, web_port=port, smtp_port=smtp_port if mail else None, **web)
        settings = load_settings(config_path)
        clock = Clock()
        app = RequestLog(create_app(settings, clock=clock, secret=SECRET.encode()))
        url = f"http://127.0.0.1:{port}/"
        with serving(app, sock), httpx.Client(base_url=url.rstrip("/"), timeout=10) as client:
            yield Service(url, settings, mailbox, clock, client, config_path, {"requests": app})


LINK = re.compile(r"https?://\S+")


def links(message: EmailMessage, kind: str) -> list[str]:
    """Links of one kind (``confirm``, ``unsubscribe``, ``preferences``) in a message's text part."""
    part = message.get_body(("plain",))
    text = part.get_content() if part is not None else ""
    return [url for url in LINK.findall(text) if f"/{kind}/" in url]
