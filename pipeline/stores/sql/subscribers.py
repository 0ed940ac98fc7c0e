"""The subscriber list's rules, in SQL that SQLite and PostgreSQL both accept.

Every change is one transaction, so a process killed mid-request leaves either the old or the new
state, never half of it. Rows a change reads before it writes are locked (``FOR_UPDATE``), so two
instances changing one subscriber queue instead of losing one change. A new address is inserted
with ``ON CONFLICT (email_key) DO NOTHING``: two processes signing up one address at once get one
subscriber, and the one that lost the race answers like for any known address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from pipeline.config.site import LANGUAGES
from pipeline.stores.sql.access import SqlAccess
from pipeline.stores.subscriber_csv import read_import, write_export
from pipeline.stores.subscribers import (
    SOURCES,
    STATUSES,
    ConsentRecord,
    ImportReport,
    Subscriber,
    SubscriberError,
    check_choice,
    email_hash,
    email_key,
    from_row,
    new_uid,
    normalize_email,
    parse_targets,
    parse_time,
    timestamp,
)

# Version 1 of both backends' tables, written once; only the id columns' types differ: SQLite's
# rowid keys, PostgreSQL's BIGINT identities (BY DEFAULT, so ``db copy`` keeps the ids the send log
# refers to). Never edit it; a change is a new script appended to each backend's list.
SCHEMA_V1 = """
    CREATE TABLE subscribers (
        id {key},
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
        id {key},
        subscriber_id {ref} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
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
    """


def schema_v1(*, key: str, ref: str) -> str:
    """The version-1 script for a backend: ``key`` is its id column type, ``ref`` a reference to one."""
    return SCHEMA_V1.format(key=key, ref=ref)


INSERT_SUBSCRIBER = (
    "INSERT INTO subscribers (uid, email, email_key, lang, targets, status, created_at, updated_at, "
    "confirmed_at, unsubscribed_at, consent_source, consent_at, consent_page) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING RETURNING id"
)


class SubscriberRules(SqlAccess):
    """The store's behaviour; a backend's class adds its :class:`SqlAccess` (and schema)."""

    # -- reading -------------------------------------------------------------------------------

    def get(self, uid: str) -> Subscriber | None:
        row = self._one("SELECT * FROM subscribers WHERE uid = ?", (uid,))
        return from_row(row) if row else None

    def by_id(self, subscriber_id: int) -> Subscriber | None:
        row = self._one("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,))
        return from_row(row) if row else None

    def find(self, address: str) -> Subscriber | None:
        """Look an address up case-insensitively (invalid addresses are simply not found)."""
        try:
            key = email_key(normalize_email(address))
        except SubscriberError:
            return None
        row = self._one("SELECT * FROM subscribers WHERE email_key = ?", (key,))
        return from_row(row) if row else None

    def list(self, status: str | None = None) -> Iterator[Subscriber]:
        if status is not None:
            check_choice(status, STATUSES, "status")
            rows = self._all("SELECT * FROM subscribers WHERE status = ? ORDER BY id", (status,))
        else:
            rows = self._all("SELECT * FROM subscribers ORDER BY id")
        for row in rows:
            yield from_row(row)

    def active(self) -> list[Subscriber]:
        """Everyone who may be mailed now."""
        return list(self.list("active"))

    def counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status")
        found = {row["status"]: row["n"] for row in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def consent_records(self, uid: str) -> list[ConsentRecord]:
        subscriber = self._require(uid)
        rows = self._all(
            "SELECT event, source, page, at, detail FROM subscriber_consent WHERE subscriber_id = ? ORDER BY id",
            (subscriber.id,),
        )
        return [
            ConsentRecord(r["event"], r["source"], r["page"], parse_time(r["at"]), r["detail"]) for r in rows
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
        row = self._one(
            "SELECT 1 AS hit FROM subscriber_suppressions WHERE email_hash = ?", (email_hash(address),)
        )
        return row is not None

    def _require(self, uid: str, *, lock: bool = False) -> Subscriber:
        row = self._one(f"SELECT * FROM subscribers WHERE uid = ?{self.FOR_UPDATE if lock else ''}", (uid,))
        if row is None:
            raise SubscriberError(f"no subscriber with id {uid!r}")
        return from_row(row)

    # -- changing ------------------------------------------------------------------------------

    def _log(
        self, subscriber_id: int, event: str, source: str, page: str | None, at: str, detail=None
    ) -> None:
        self._run(
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
        check_choice(lang, LANGUAGES, "language")
        check_choice(status, ("pending", "active"), "status of a new subscriber")
        check_choice(source, SOURCES, "consent source")
        chosen = parse_targets(targets)
        at = timestamp(now)
        key = email_key(email)
        with self._transaction():
            row = self._one(f"SELECT * FROM subscribers WHERE email_key = ?{self.FOR_UPDATE}", (key,))
            if row is not None:
                existing = from_row(row)
                if not (resubscribe and existing.status == "unsubscribed"):
                    return existing, False
                self._run(
                    "UPDATE subscribers SET status = ?, lang = ?, targets = ?, updated_at = ?, "
                    "confirmed_at = ?, unsubscribed_at = NULL, consent_source = ?, consent_at = ?, "
                    "consent_page = ? WHERE id = ?",
                    (status, lang, " ".join(chosen), at, at if status == "active" else None, source, at, page)
                    + (existing.id,),
                )
                self._log(existing.id, "resubscribed", source, page, at, f"status {status}")
                return self.by_id(existing.id), True
            if not allow_erased and self.is_suppressed(email):
                raise SubscriberError(
                    f"{email} asked for all its data to be erased; it can only subscribe again itself"
                )
            inserted = self._one(
                INSERT_SUBSCRIBER,
                (new_uid(), email, key, lang, " ".join(chosen), status, at, at)
                + (at if status == "active" else None, None, source, at, page),
            )
            if inserted is None:  # another process added it since our SELECT (PostgreSQL only)
                return from_row(self._one("SELECT * FROM subscribers WHERE email_key = ?", (key,))), False
            self._log(inserted["id"], "subscribed", source, page, at, f"status {status}")
            return self.by_id(inserted["id"]), True

    def confirm(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber:
        """pending → active (double opt-in); confirming an active subscriber changes nothing."""

        def to_active(subscriber: Subscriber) -> tuple[str, str, str] | None:
            if subscriber.status == "unsubscribed":
                raise SubscriberError("this subscription was cancelled; subscribe again to restart it")
            return ("active", "confirmed_at", "confirmed") if subscriber.status == "pending" else None

        return self._change_status(uid, now, source, page, to_active)

    def unsubscribe(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber:
        """Stop all mail at once; idempotent (a second unsubscribe keeps the first time)."""

        def to_unsubscribed(subscriber: Subscriber) -> tuple[str, str, str] | None:
            if subscriber.status == "unsubscribed":
                return None
            return "unsubscribed", "unsubscribed_at", "unsubscribed"

        return self._change_status(uid, now, source, page, to_unsubscribed)

    def _change_status(
        self,
        uid: str,
        now: datetime,
        source: str,
        page: str | None,
        change: Callable[[Subscriber], tuple[str, str, str] | None],
    ) -> Subscriber:
        """One status change in one transaction, on the locked row, with its consent record.

        ``change(subscriber)`` says (new status, the column that keeps when, consent event), or
        ``None`` when there is nothing to change (the call is idempotent), or raises.
        """
        check_choice(source, SOURCES, "consent source")
        at = timestamp(now)
        with self._transaction():
            subscriber = self._require(uid, lock=True)
            decided = change(subscriber)
            if decided is not None:
                status, column, event = decided
                self._run(
                    f"UPDATE subscribers SET status = ?, {column} = ?, updated_at = ? WHERE id = ?",
                    (status, at, at, subscriber.id),
                )
                self._log(subscriber.id, event, source, page, at)
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
        check_choice(source, SOURCES, "consent source")
        if lang is not None:
            check_choice(lang, LANGUAGES, "language")
        chosen = parse_targets(targets) if targets is not None else None
        at = timestamp(now)
        with self._transaction():
            subscriber = self._require(uid, lock=True)
            new_lang = lang or subscriber.lang
            new_targets = subscriber.targets if chosen is None else chosen
            self._run(
                "UPDATE subscribers SET lang = ?, targets = ?, updated_at = ? WHERE id = ?",
                (new_lang, " ".join(new_targets), at, subscriber.id),
            )
            detail = f"lang {new_lang}; targets {' '.join(new_targets) or 'all'}"
            self._log(subscriber.id, "preferences", source, page, at, detail)
        return self._require(uid)

    def erase(self, uid: str, *, now: datetime) -> None:
        """Delete every record of a subscriber, keeping only a hash of the address as a suppression."""
        with self._transaction():
            subscriber = self._require(uid, lock=True)
            self._run(
                "INSERT INTO subscriber_suppressions (email_hash, erased_at) VALUES (?, ?) "
                "ON CONFLICT (email_hash) DO UPDATE SET erased_at = excluded.erased_at",
                (email_hash(subscriber.email), timestamp(now)),
            )
            self._run("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))

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
        rows, report = read_import(
            text, now=now, status=status, source=source, page=page, is_suppressed=self.is_suppressed
        )
        at = timestamp(now)
        with self._transaction():
            for row in rows:
                inserted = self._one(
                    INSERT_SUBSCRIBER,
                    (new_uid(), row.email, email_key(row.email), row.lang, " ".join(row.targets), row.status)
                    + (
                        row.created_at,
                        at,
                        row.confirmed_at,
                        row.unsubscribed_at,
                        row.source,
                        row.consent_at,
                        row.page,
                    ),
                )
                if inserted is None:
                    report.already_known += 1
                    continue
                # The log says what happened here and now; the row keeps when and how consent was
                # given, as the exported list documented it.
                self._log(inserted["id"], "subscribed", source, row.page, at, row.detail())
                report.added += 1
        return report

    def export_csv(self) -> str:
        """The whole list as CSV (importable again with :meth:`import_csv`)."""
        return write_export(self.list())


__all__ = ["INSERT_SUBSCRIBER", "SCHEMA_V1", "SubscriberRules", "schema_v1"]
