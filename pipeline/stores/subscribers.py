"""Subscribers as the program sees them, whatever the backend: the model and its normalising.

Each subscriber has:

- a random public ``uid`` (used in tokens and Message-IDs, so links never reveal the address);
- an address validated with email-validator (no DNS), stored in its ASCII form and de-duplicated
  case-insensitively;
- a language (``sv``/``en``) and an optional target filter (only updates with those targets);
- a status — ``pending`` (waiting for confirmation), ``active`` or ``unsubscribed`` — with the time
  of every change; only ``active`` subscribers are ever mailed;
- consent records: every subscribe, confirm, preference change and unsubscribe with when, how
  (``form``, ``import``, ``api``, ``cli``) and from which page, exportable per subscriber
  (GDPR Art. 7 and 15).

Erasing a subscriber deletes it completely and keeps only a SHA-256 hash of the address, so an
erased address is not re-imported by a later CSV import. The store itself (one class per backend)
is opened through :func:`pipeline.stores.backend.open_backend`; its rules are in
:mod:`pipeline.stores.sql.subscribers`, the CSV format in :mod:`pipeline.stores.subscriber_csv`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.config.taxonomy import load_taxonomy

STATUSES = ("pending", "active", "unsubscribed")
SOURCES = ("form", "import", "api", "cli")
EVENTS = ("subscribed", "confirmed", "preferences", "unsubscribed", "resubscribed")

CSV_FIELDS = (
    "email",
    "lang",
    "targets",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_source",
    "consent_at",
    "consent_page",
)


class SubscriberError(ValueError):
    """A request the list cannot honour (bad address, unknown subscriber, …); the message says why."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    uid: str
    email: str
    lang: str
    targets: tuple[str, ...]  # empty: every update
    status: str
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    consent_source: str
    consent_at: datetime
    consent_page: str | None

    @property
    def mailable(self) -> bool:
        return self.status == "active"

    def wants(self, update_targets: Sequence[str]) -> bool:
        """Whether an update with these targets belongs in this subscriber's digest."""
        return not self.targets or any(t in self.targets for t in update_targets)


@dataclass(frozen=True)
class ConsentRecord:
    event: str
    source: str
    page: str | None
    at: datetime
    detail: str | None


@dataclass
class ImportReport:
    added: int = 0
    already_known: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def normalize_email(address: str) -> str:
    """The ASCII form of a valid address; raises :class:`SubscriberError` saying what is wrong.

    Internationalized domains are stored in their ``xn--`` form; non-ASCII before the @ is refused
    (it would need SMTPUTF8 all along the way).
    """
    text = (address or "").strip()
    if not text:
        raise SubscriberError("empty email address")
    from email_validator import EmailNotValidError, validate_email  # with dnspython: 40 ms to import

    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"invalid email address {text!r}: {exc}") from None
    return result.ascii_email


def email_key(address: str) -> str:
    return address.lower()


def email_hash(address: str) -> str:
    return hashlib.sha256(email_key(address).encode("utf-8")).hexdigest()


def parse_targets(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"17.9 17.17"``, ``"17.9,17.17"`` or a list → taxonomy-ordered target ids."""
    items = value.replace(",", " ").replace(";", " ").split() if isinstance(value, str) else list(value)
    taxonomy = load_taxonomy()
    unknown = [t for t in items if not taxonomy.has_target(t)]
    if unknown:
        raise SubscriberError(f"unknown target(s) {', '.join(unknown)} (use 17.1 … 17.19)")
    return taxonomy.sort_targets(items)


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise SubscriberError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return value


def new_uid() -> str:
    """12 URL-safe characters (72 random bits): short enough for a 78-column unsubscribe line."""
    return secrets.token_urlsafe(9)


def from_row(row) -> Subscriber:
    """A ``subscribers`` row (any mapping by column name) as a :class:`Subscriber`."""
    return Subscriber(
        id=row["id"],
        uid=row["uid"],
        email=row["email"],
        lang=row["lang"],
        targets=tuple(row["targets"].split()) if row["targets"] else (),
        status=row["status"],
        created_at=parse_time(row["created_at"]),
        updated_at=parse_time(row["updated_at"]),
        confirmed_at=parse_time(row["confirmed_at"]),
        unsubscribed_at=parse_time(row["unsubscribed_at"]),
        consent_source=row["consent_source"],
        consent_at=parse_time(row["consent_at"]),
        consent_page=row["consent_page"],
    )


def __getattr__(name: str):
    """``SubscriberStore``: the SQLite store under the name older callers import (``SubscriberStore(conn)``,
    ``SubscriberStore.open(state_dir)``); new code opens the configured one with ``open_backend``."""
    if name == "SubscriberStore":
        from pipeline.stores.sqlite.subscribers import SQLiteSubscriberStore

        return SQLiteSubscriberStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CSV_FIELDS",
    "ConsentRecord",
    "EVENTS",
    "ImportReport",
    "SOURCES",
    "STATUSES",
    "Subscriber",
    "SubscriberError",
    "check_choice",
    "email_hash",
    "email_key",
    "from_row",
    "new_uid",
    "normalize_email",
    "parse_targets",
    "parse_time",
    "timestamp",
]
