"""The subscriber list (SQLite, in the state database): the one store the CLI and the web service share.

Every change is one short ``BEGIN IMMEDIATE`` transaction, so a process killed mid-request leaves
either the old or the new state, never half of it. Each subscriber has:

- a random public ``uid`` (used in tokens and Message-IDs, so links never reveal the address);
- an address validated with email-validator (no DNS), stored in its ASCII form and de-duplicated
  case-insensitively;
- a language (``sv``/``en``) and an optional target filter (only updates with those targets);
- a status — ``pending`` (waiting for confirmation), ``active`` or ``unsubscribed`` — with the time
  of every change; only ``active`` subscribers are ever mailed;
- consent records: every subscribe, confirm, preference change and unsubscribe with when, how
  (``form``, ``import``, ``api``, ``cli``) and from which page, exportable per subscriber
  (GDPR Art. 7 and 15).

:meth:`SubscriberStore.erase` deletes a subscriber completely and keeps only a SHA-256 hash of the
address, so an erased address is not re-imported by a later CSV import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from pipeline.config.site import LANGUAGES
from pipeline.config.taxonomy import load_taxonomy
from pipeline.stores import statedb

STATUSES = ("pending", "active", "unsubscribed")
SOURCES = ("form", "import", "api", "cli")
EVENTS = ("subscribed", "confirmed", "preferences", "unsubscribed", "resubscribed")

MIGRATIONS = [
    """
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        lang TEXT NOT NULL CHECK (lang IN ('sv', 'en')),
        targets TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT,
        consent_source TEXT NOT NULL CHECK (consent_source IN ('form', 'import', 'api', 'cli')),
        consent_at TEXT NOT NULL,
        consent_page TEXT
    );
    CREATE INDEX subscribers_status ON subscribers (status, id);
    CREATE TABLE subscriber_consent (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        source TEXT NOT NULL,
        page TEXT,
        at TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX subscriber_consent_subscriber ON subscriber_consent (subscriber_id, id);
    CREATE TABLE subscriber_suppressions (
        email_hash TEXT PRIMARY KEY,
        erased_at TEXT NOT NULL
    );
    """,
]

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


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def normalize_email(address: str) -> str:
    """The ASCII form of a valid address; raises :class:`SubscriberError` saying what is wrong.

    Internationalized domains are stored in their ``xn--`` form; non-ASCII before the @ is refused
    (it would need SMTPUTF8 all along the way).
    """
    text = (address or "").strip()
    if not text:
        raise SubscriberError("empty email address")
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


def _check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise SubscriberError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return value


class SubscriberStore:
    """The subscriber list in one state database; open with :meth:`open` or wrap a connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        statedb.ensure_schema(conn, "subscribers", MIGRATIONS)

    @classmethod
    def open(cls, state_dir: str | Path) -> SubscriberStore:
        return cls(statedb.connect(state_dir))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SubscriberStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def _row(self, row: sqlite3.Row | None) -> Subscriber | None:
        if row is None:
            return None
        return Subscriber(
            id=row["id"],
            uid=row["uid"],
            email=row["email"],
            lang=row["lang"],
            targets=tuple(row["targets"].split()) if row["targets"] else (),
            status=row["status"],
            created_at=_parse_time(row["created_at"]),
            updated_at=_parse_time(row["updated_at"]),
            confirmed_at=_parse_time(row["confirmed_at"]),
            unsubscribed_at=_parse_time(row["unsubscribed_at"]),
            consent_source=row["consent_source"],
            consent_at=_parse_time(row["consent_at"]),
            consent_page=row["consent_page"],
        )

    def get(self, uid: str) -> Subscriber | None:
        return self._row(self.conn.execute("SELECT * FROM subscribers WHERE uid = ?", (uid,)).fetchone())

    def by_id(self, subscriber_id: int) -> Subscriber | None:
        row = self.conn.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        return self._row(row)

    def find(self, address: str) -> Subscriber | None:
        """Look an address up case-insensitively (invalid addresses are simply not found)."""
        try:
            key = email_key(normalize_email(address))
        except SubscriberError:
            return None
        row = self.conn.execute("SELECT * FROM subscribers WHERE email_key = ?", (key,)).fetchone()
        return self._row(row)

    def list(self, status: str | None = None) -> Iterator[Subscriber]:
        if status is not None:
            _check_choice(status, STATUSES, "status")
            rows = self.conn.execute("SELECT * FROM subscribers WHERE status = ? ORDER BY id", (status,))
        else:
            rows = self.conn.execute("SELECT * FROM subscribers ORDER BY id")
        for row in rows.fetchall():
            yield self._row(row)

    def active(self) -> list[Subscriber]:
        """Everyone who may be mailed now."""
        return list(self.list("active"))

    def counts(self) -> dict[str, int]:
        found = dict(self.conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall())
        return {status: found.get(status, 0) for status in STATUSES}

    def consent_records(self, uid: str) -> list[ConsentRecord]:
        subscriber = self._require(uid)
        rows = self.conn.execute(
            "SELECT event, source, page, at, detail FROM subscriber_consent WHERE subscriber_id = ? ORDER BY id",
            (subscriber.id,),
        ).fetchall()
        return [
            ConsentRecord(r["event"], r["source"], r["page"], _parse_time(r["at"]), r["detail"]) for r in rows
        ]

    def export_record(self, uid: str) -> dict:
        """Everything stored about one subscriber, as JSON-ready data (GDPR Art. 15)."""
        subscriber = self._require(uid)
        data = {
            "email": subscriber.email,
            "lang": subscriber.lang,
            "targets": list(subscriber.targets),
            "status": subscriber.status,
        }
        for key in ("created_at", "updated_at", "confirmed_at", "unsubscribed_at", "consent_at"):
            value = getattr(subscriber, key)
            data[key] = timestamp(value) if value else None
        data["consent_source"] = subscriber.consent_source
        data["consent_page"] = subscriber.consent_page
        data["consent"] = [
            {"event": r.event, "source": r.source, "page": r.page, "at": timestamp(r.at), "detail": r.detail}
            for r in self.consent_records(uid)
        ]
        return data

    def is_suppressed(self, address: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM subscriber_suppressions WHERE email_hash = ?", (email_hash(address),)
        ).fetchone()
        return row is not None

    def _require(self, uid: str) -> Subscriber:
        subscriber = self.get(uid)
        if subscriber is None:
            raise SubscriberError(f"no subscriber with id {uid!r}")
        return subscriber

    # -- changing ------------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return statedb.transaction(self.conn)

    def _log(
        self, subscriber_id: int, event: str, source: str, page: str | None, at: str, detail=None
    ) -> None:
        self.conn.execute(
            "INSERT INTO subscriber_consent (subscriber_id, event, source, page, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (subscriber_id, event, source, page, at, detail),
        )

    def add(
        self,
        address: str,
        *,
        now: datetime,
        lang: str = "sv",
        targets: Sequence[str] | str = (),
        status: str = "active",
        source: str = "cli",
        page: str | None = None,
        resubscribe: bool = False,
        allow_erased: bool = False,
    ) -> tuple[Subscriber, bool]:
        """Add an address; returns ``(subscriber, created)``.

        A known address is returned unchanged with ``created=False`` (the web service gives the
        same answer either way) — except that ``resubscribe=True`` brings an unsubscribed
        address back with the new status, language, targets and consent. ``status`` is
        ``"pending"`` for double opt-in (the web form) or ``"active"`` (CLI, import of a list with
        consent already documented). An erased address is refused, unless ``allow_erased=True``:
        the web form's double opt-in, where the owner confirms from the mailbox (the suppression
        hash stays; it only keeps imports from adding the address).
        """
        email = normalize_email(address)
        _check_choice(lang, LANGUAGES, "language")
        _check_choice(status, ("pending", "active"), "status of a new subscriber")
        _check_choice(source, SOURCES, "consent source")
        chosen = parse_targets(targets)
        at = timestamp(now)
        with self._transaction():
            row = self.conn.execute(
                "SELECT * FROM subscribers WHERE email_key = ?", (email_key(email),)
            ).fetchone()
            if row is not None:
                existing = self._row(row)
                if not (resubscribe and existing.status == "unsubscribed"):
                    return existing, False
                self.conn.execute(
                    "UPDATE subscribers SET status = ?, lang = ?, targets = ?, updated_at = ?, "
                    "confirmed_at = ?, unsubscribed_at = NULL, consent_source = ?, consent_at = ?, "
                    "consent_page = ? WHERE id = ?",
                    (
                        status,
                        lang,
                        " ".join(chosen),
                        at,
                        at if status == "active" else None,
                        source,
                        at,
                        page,
                        existing.id,
                    ),
                )
                self._log(existing.id, "resubscribed", source, page, at, f"status {status}")
                return self.by_id(existing.id), True
            if not allow_erased and self.is_suppressed(email):
                raise SubscriberError(
                    f"{email} asked for all its data to be erased; it can only subscribe again itself"
                )
            cursor = self.conn.execute(
                "INSERT INTO subscribers (uid, email, email_key, lang, targets, status, created_at, updated_at, "
                "confirmed_at, consent_source, consent_at, consent_page) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _new_uid(),
                    email,
                    email_key(email),
                    lang,
                    " ".join(chosen),
                    status,
                    at,
                    at,
                    at if status == "active" else None,
                    source,
                    at,
                    page,
                ),
            )
            self._log(cursor.lastrowid, "subscribed", source, page, at, f"status {status}")
            return self.by_id(cursor.lastrowid), True

    def confirm(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber:
        """pending → active (double opt-in); confirming an active subscriber changes nothing."""
        _check_choice(source, SOURCES, "consent source")
        at = timestamp(now)
        with self._transaction():
            subscriber = self._require(uid)
            if subscriber.status == "unsubscribed":
                raise SubscriberError("this subscription was cancelled; subscribe again to restart it")
            if subscriber.status == "pending":
                self.conn.execute(
                    "UPDATE subscribers SET status = 'active', confirmed_at = ?, updated_at = ? WHERE id = ?",
                    (at, at, subscriber.id),
                )
                self._log(subscriber.id, "confirmed", source, page, at)
        return self._require(uid)

    def unsubscribe(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber:
        """Stop all mail at once; idempotent (a second unsubscribe keeps the first time)."""
        _check_choice(source, SOURCES, "consent source")
        at = timestamp(now)
        with self._transaction():
            subscriber = self._require(uid)
            if subscriber.status != "unsubscribed":
                self.conn.execute(
                    "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, updated_at = ? WHERE id = ?",
                    (at, at, subscriber.id),
                )
                self._log(subscriber.id, "unsubscribed", source, page, at)
        return self._require(uid)

    def set_preferences(
        self,
        uid: str,
        *,
        now: datetime,
        lang: str | None = None,
        targets: Sequence[str] | str | None = None,
        source: str = "form",
        page: str | None = None,
    ) -> Subscriber:
        """Change language and/or target filter (``targets=()`` means every update)."""
        _check_choice(source, SOURCES, "consent source")
        if lang is not None:
            _check_choice(lang, LANGUAGES, "language")
        chosen = parse_targets(targets) if targets is not None else None
        at = timestamp(now)
        with self._transaction():
            subscriber = self._require(uid)
            new_lang = lang or subscriber.lang
            new_targets = subscriber.targets if chosen is None else chosen
            self.conn.execute(
                "UPDATE subscribers SET lang = ?, targets = ?, updated_at = ? WHERE id = ?",
                (new_lang, " ".join(new_targets), at, subscriber.id),
            )
            detail = f"lang {new_lang}; targets {' '.join(new_targets) or 'all'}"
            self._log(subscriber.id, "preferences", source, page, at, detail)
        return self._require(uid)

    def erase(self, uid: str, *, now: datetime) -> None:
        """Delete every record of a subscriber, keeping only a hash of the address as a suppression."""
        with self._transaction():
            subscriber = self._require(uid)
            self.conn.execute(
                "INSERT OR REPLACE INTO subscriber_suppressions (email_hash, erased_at) VALUES (?, ?)",
                (email_hash(subscriber.email), timestamp(now)),
            )
            self.conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))

    # -- CSV -----------------------------------------------------------------------------------

    def import_csv(
        self,
        text: str,
        *,
        now: datetime,
        status: str = "active",
        source: str = "import",
        page: str | None = None,
    ) -> ImportReport:
        """Import rows with at least an ``email`` column (also ``lang``, ``targets``, ``status``
        and the timestamps and consent columns, as written by :meth:`export_csv`).

        A list moved from another installation keeps its consent evidence: ``consent_at``,
        ``consent_source``, ``consent_page`` and the other timestamps are taken from the file when
        present (the consent log records the import itself, now); without them, now and
        ``source`` are recorded.

        Every bad row is reported with its line number and skipped; all good rows are imported in
        one transaction. Addresses already on the list are left as they are.
        """
        report = ImportReport()
        text = text.lstrip("\ufeff")
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "email" not in header:
            raise SubscriberError("line 1: the CSV needs a header row with an 'email' column")
        reader.fieldnames = header
        unknown = [h for h in header if h not in CSV_FIELDS]
        if unknown:
            raise SubscriberError(
                f"line 1: unknown column(s) {', '.join(unknown)}; known: {', '.join(CSV_FIELDS)}"
            )
        at = timestamp(now)
        rows: list[tuple[int, dict]] = []
        seen: dict[str, int] = {}
        for record in reader:
            start = reader.line_num  # the row's (last) physical line, as an editor shows it
            if None in record:
                report.rejected.append((start, "more fields than columns in the header"))
                continue
            values = {k: (v or "").strip() for k, v in record.items()}
            if not any(values.values()):
                continue
            try:
                email = normalize_email(values.get("email", ""))
                lang = _check_choice((values.get("lang") or "sv").lower(), LANGUAGES, "lang")
                targets = parse_targets(values.get("targets", ""))
                row_status = _check_choice((values.get("status") or status).lower(), STATUSES, "status")
                row_page = values.get("consent_page") or page
                row_source = _check_choice(
                    (values.get("consent_source") or source).lower(), SOURCES, "consent_source"
                )
                given = {
                    name: _csv_time(values.get(name, ""), name, now)
                    for name in ("created_at", "confirmed_at", "unsubscribed_at", "consent_at")
                }
            except SubscriberError as exc:
                report.rejected.append((start, str(exc)))
                continue
            key = email_key(email)
            if key in seen:
                report.rejected.append((start, f"{email} is already on line {seen[key]}"))
                continue
            seen[key] = start
            if self.is_suppressed(email):
                report.rejected.append((start, f"{email} was erased at its owner's request; not re-imported"))
                continue
            rows.append(
                (
                    start,
                    {
                        "email": email,
                        "lang": lang,
                        "targets": targets,
                        "status": row_status,
                        "page": row_page,
                        "source": row_source,
                        # What the file documents, else this import; a pending address has not
                        # confirmed, an unsubscribed one may have.
                        "created_at": given["created_at"] or at,
                        "confirmed_at": None
                        if row_status == "pending"
                        else given["confirmed_at"] or (at if row_status == "active" else None),
                        "unsubscribed_at": (given["unsubscribed_at"] or at)
                        if row_status == "unsubscribed"
                        else None,
                        "consent_at": given["consent_at"] or at,
                        "documented_consent": given["consent_at"],
                    },
                )
            )
        with self._transaction():
            for _line, row in rows:
                exists = self.conn.execute(
                    "SELECT 1 FROM subscribers WHERE email_key = ?", (email_key(row["email"]),)
                ).fetchone()
                if exists:
                    report.already_known += 1
                    continue
                cursor = self.conn.execute(
                    "INSERT INTO subscribers (uid, email, email_key, lang, targets, status, created_at, "
                    "updated_at, confirmed_at, unsubscribed_at, consent_source, consent_at, consent_page) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        _new_uid(),
                        row["email"],
                        email_key(row["email"]),
                        row["lang"],
                        " ".join(row["targets"]),
                        row["status"],
                        row["created_at"],
                        at,
                        row["confirmed_at"],
                        row["unsubscribed_at"],
                        row["source"],
                        row["consent_at"],
                        row["page"],
                    ),
                )
                # The log says what happened here and now; the row keeps when and how consent was
                # given, as the exported list documented it.
                detail = f"status {row['status']}"
                if row["documented_consent"]:
                    detail += f"; consent {row['documented_consent']} via {row['source']}"
                self._log(cursor.lastrowid, "subscribed", source, row["page"], at, detail)
                report.added += 1
        return report

    def export_csv(self) -> str:
        """The whole list as CSV (importable again with :meth:`import_csv`)."""
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        for s in self.list():
            writer.writerow(
                [
                    s.email,
                    s.lang,
                    " ".join(s.targets),
                    s.status,
                    timestamp(s.created_at),
                    timestamp(s.confirmed_at) if s.confirmed_at else "",
                    timestamp(s.unsubscribed_at) if s.unsubscribed_at else "",
                    s.consent_source,
                    timestamp(s.consent_at),
                    s.consent_page or "",
                ]
            )
        return out.getvalue()


def _csv_time(text: str, column: str, now: datetime) -> str | None:
    """An exported timestamp (ISO 8601 with an offset, e.g. ``2026-03-14T08:00:00Z``), normalized.

    Empty means unknown (the import's own time is used). A timestamp without an offset, one
    that does not parse, or one in the future is refused: consent records must not be invented.
    """
    try:
        moment = _parse_time(text)
    except ValueError:
        raise SubscriberError(
            f"{column} is not a timestamp: {text!r} (write e.g. 2026-03-14T08:00:00Z)"
        ) from None
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise SubscriberError(f"{column} needs a time zone: {text!r} (write e.g. 2026-03-14T08:00:00Z)")
    if moment > now:
        raise SubscriberError(f"{column} is in the future: {text!r}")
    return timestamp(moment)


def _delimiter(text: str) -> str:
    """The separator of the header row: ',' or, as spreadsheets write CSV where the decimal mark
    is a comma (Excel in Swedish), ';' — or a tab. The one that yields an ``email`` column wins."""
    header = text.split("\n", 1)[0].lower()
    for candidate in (",", ";", "\t"):
        if "email" in (name.strip().strip('"') for name in header.split(candidate)):
            return candidate
    return ","


def _new_uid() -> str:
    """12 URL-safe characters (72 random bits): short enough for a 78-column unsubscribe line."""
    return secrets.token_urlsafe(9)


__all__ = [
    "CSV_FIELDS",
    "ConsentRecord",
    "ImportReport",
    "SOURCES",
    "STATUSES",
    "Subscriber",
    "SubscriberError",
    "SubscriberStore",
    "normalize_email",
    "parse_targets",
]
