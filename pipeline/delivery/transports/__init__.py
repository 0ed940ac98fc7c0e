"""Where finished messages go: the :class:`Transport` seam and the registry of transport kinds.

Every room that needs to know something about a transport — the send run (which one to make, how
fast it may go, whether its links must be https), the settings (which names are valid), the
command line and the scheduler (the choices), the web service (may it sign with the public
development secret?) — asks :data:`KINDS` instead of spelling ``"outbox"`` or ``"smtp"``. So a new
transport is one module with a class and a ``make`` function, plus one line in :data:`KINDS`.

A transport's ``send`` returns when the message was accepted and raises one of the outcomes in
:mod:`.failures` otherwise; the send loop records each outcome in the send log.

This module stays light (no transport is imported until one is made): the settings check
``[newsletter] transport`` against it and the scheduler validates ``schedule.toml`` with it, and
neither should pay for ``smtplib``, ``ssl`` or the message builder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipeline.config.site import Settings
from pipeline.delivery.transports.failures import (
    Ambiguous,
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
)
from pipeline.delivery.transports.pacing import MessagePacer, parse_rate

if TYPE_CHECKING:
    from pipeline.delivery.message import Prepared

# What a mail belongs to: "issues" (the newsletter) or "web" (the service's sign-up mails). A
# transport that can keep them apart (the outbox: a subfolder) does; the others ignore it.
ISSUES = "issues"
WEB = "web"


class Transport(Protocol):
    """One open way out for messages, used by one run (or one web mail) and then closed."""

    name: str  # the registry name, recorded in the send log's ``transport`` column

    def open(self) -> None:
        """Connect now, so a run that cannot send stops before it claims anyone."""

    def send(self, prepared: Prepared, envelope_from: str) -> None:
        """Hand over one message; returns when accepted, raises a :mod:`.failures` outcome otherwise."""

    def close(self) -> None:
        """Let go of any connection; safe to call twice and after a failure."""


Factory = Callable[[Settings, Mapping[str, str] | None, str], Transport]


@dataclass(frozen=True)
class TransportKind:
    """A transport's name, how to make one, and the facts other rooms ask about it.

    ``factory``: ``factory(settings, environ, channel) -> Transport``, or its ``"module:function"``
    path, imported when the first transport of this kind is made. ``reaches_readers``: it
    delivers to real people, so its links are signed with a strong secret (never the public
    development one) and must be https (RFC 8058 one-click unsubscribe). A kind that does not is a
    rehearsal; the send log and the send loop still recognise the rehearsal by its name
    ``"outbox"`` (a rehearsal never takes over a row owed by a real send), until they move to the
    send-log store.
    ``tables``: the settings tables (``Settings`` properties) it reads, checked before anything is
    sent. ``rate_from``: (table, key) of the setting with its default messages per second, for a
    transport that is rate limited (``None``: it is not).
    """

    name: str
    factory: Factory | str
    reaches_readers: bool
    summary: str
    tables: tuple[str, ...] = ()
    rate_from: tuple[str, str] | None = None

    def make(
        self, settings: Settings, environ: Mapping[str, str] | None = None, channel: str = ISSUES
    ) -> Transport:
        """A new transport for ``channel`` (``environ``: where credentials are read; default the process's)."""
        factory = self.factory
        if isinstance(factory, str):
            module, _, function = factory.partition(":")
            factory = getattr(importlib.import_module(module), function)
        return factory(settings, environ, channel)

    def check(self, settings: Settings) -> None:
        """Resolve the settings tables this kind reads, raising ``SettingsError`` naming each bad key."""
        for table in self.tables:
            getattr(settings, table)

    def default_rate(self, settings: Settings) -> float:
        """Messages per second when the command line or job does not say (0: no limit)."""
        if self.rate_from is None:
            return 0.0
        table, key = self.rate_from
        return float(getattr(getattr(settings, table), key))


KINDS: dict[str, TransportKind] = {
    kind.name: kind
    for kind in (
        TransportKind(
            "outbox", f"{__name__}.outbox:make", False, "write .eml files to the [newsletter] outbox folder"
        ),
        TransportKind(
            "smtp", f"{__name__}.smtp:make", True, "send with the [smtp] server", ("smtp",), ("smtp", "rate")
        ),
    )
}


class UnknownTransport(KeyError):
    """A name that is not in :data:`KINDS`; ``str()`` is the one-line message for the user."""

    def __str__(self) -> str:
        return str(self.args[0])


def transport_names() -> tuple[str, ...]:
    """The registered names, in registry order (the command line's ``--transport`` choices)."""
    return tuple(KINDS)


def transport_kind(name: str) -> TransportKind:
    """The kind registered as ``name``; raises :class:`UnknownTransport` naming the valid ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownTransport(f"unknown transport {name!r} (use {' or '.join(KINDS)})") from None


def reaches_readers(name: str) -> bool:
    """Whether mail through ``name`` reaches real people; an unknown name is treated as if it does,
    so a misspelt transport can never loosen what real mail requires."""
    kind = KINDS.get(name)
    return True if kind is None else kind.reaches_readers


__all__ = [
    "ISSUES",
    "KINDS",
    "WEB",
    "Ambiguous",
    "DeliveryFailure",
    "MessagePacer",
    "PermanentFailure",
    "TemporaryFailure",
    "Transport",
    "TransportKind",
    "TransportUnavailable",
    "UnknownTransport",
    "parse_rate",
    "reaches_readers",
    "transport_kind",
    "transport_names",
]
