"""Delivering an issue exactly once per subscriber: the send log, the lock, retries, the summary.

The send log (``newsletter_sends``) has one row per (issue, subscriber) — the primary key — and
every message goes through it:

1. **claim**: in one transaction, check the subscriber is still active and write the row as
   ``claimed``; commit (durable before anything leaves);
2. hand the message to the transport;
3. record the outcome: ``sent``; ``temporary`` (4xx, dropped connection: retried by later runs
   after a backoff of 5 min × 2^(attempts−1), at most 6 h, giving up after 8 attempts);
   ``permanent`` (5xx: recorded, never retried).

A run holds an exclusive lock (``flock`` on ``send.lock`` in the state folder, released by the
kernel even on SIGKILL), so two ``send`` processes never work at once. A row still ``claimed``
when a run starts was therefore in flight when an earlier run died: it is sent again. That is the
one message that can arrive twice (if the kill came after the server accepted it and before the
log recorded it); every other subscriber gets the issue exactly once. With the outbox transport
even that one is not duplicated: the file is replaced.

The outbox is for checking, not delivery: a row written to the outbox does not count as sent for
a later SMTP run, so rehearsing an issue in the outbox never keeps it from its readers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from pipeline import statedb
from pipeline.newsletter.config import NewsletterConfig, is_one_click_url, newsletter_config, smtp_config
from pipeline.newsletter.issues import Issue, IssueStore
from pipeline.newsletter.message import DkimSigner, MessageTemplate, Prepared, test_message_id
from pipeline.newsletter.render import render_edition
from pipeline.newsletter.statefiles import lock_path
from pipeline.newsletter.subscribers import Subscriber, SubscriberStore, normalize_email, timestamp
from pipeline.newsletter.tokens import secret_from_env
from pipeline.newsletter.transports import (
    OutboxTransport,
    PermanentFailure,
    RateLimiter,
    SmtpTransport,
    TemporaryFailure,
    TransportUnavailable,
)
from pipeline.settings import Settings

MIGRATIONS = [
    """
    CREATE TABLE newsletter_sends (
        issue INTEGER NOT NULL REFERENCES newsletter_issues (number),
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'temporary', 'permanent')),
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL,
        transport TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        sent_at TEXT,
        next_attempt_at TEXT,
        last_error TEXT,
        PRIMARY KEY (issue, subscriber_id)
    );
    CREATE INDEX newsletter_sends_status ON newsletter_sends (issue, status);
    """,
]

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


class SendError(Exception):
    """The run could not start or had to stop; nothing is left half-recorded."""


class SendBusy(SendError):
    """Another ``send`` holds the lock."""


def backoff(attempts: int) -> timedelta:
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class SendSummary:
    issue: int
    transport: str
    sent: int = 0
    already_sent: int = 0
    skipped_no_updates: int = 0
    resumed: int = 0  # claimed by a run that died: sent again (may be the one duplicate)
    temporary: int = 0  # failed now, will be retried by a later run
    waiting: int = 0  # failed before, retry not due yet
    permanent: int = 0  # refused for good in this run
    permanent_before: int = 0
    outbox_before: int = 0  # only written to the outbox before; delivered for real in this run
    errors: list[str] = field(default_factory=list)
    test_to: str | None = None

    def line(self) -> str:
        if self.test_to:
            return f"issue {self.issue}: sent a test message to {self.test_to} via {self.transport}"
        parts = [
            f"issue {self.issue} via {self.transport}: {self.sent} sent",
            f"{self.already_sent} skipped as already sent",
            f"{self.permanent + self.temporary} failed",
        ]
        if self.temporary or self.waiting:
            parts.append(f"{self.temporary + self.waiting} to retry later")
        if self.permanent_before:
            parts.append(f"{self.permanent_before} refused earlier")
        if self.skipped_no_updates:
            parts.append(f"{self.skipped_no_updates} with nothing for their targets")
        if self.resumed:
            parts.append(f"{self.resumed} resumed from an interrupted run")
        if self.outbox_before:
            parts.append(f"{self.outbox_before} had only been written to the outbox")
        return ", ".join(parts)


class SendLock:
    """Exclusive, non-blocking ``flock``; the kernel releases it when the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> SendLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SendBusy(f"another send is already running (pid {holder}); nothing sent") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.fd is not None
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


class Progress:
    """A one-line progress bar on a terminal; silent when the stream is not a TTY."""

    def __init__(self, total: int, stream: IO[str] | None, label: str):
        self.total = total
        self.stream = stream if stream is not None and stream.isatty() else None
        self.label = label
        self.done = 0
        self.last = 0.0

    def step(self) -> None:
        self.done += 1
        if self.stream is None:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and self.done < self.total:
            return
        self.last = now
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is not None and self.total:
            self.stream.write("\n")
            self.stream.flush()


def make_transport(
    name: str, settings: Settings, config: NewsletterConfig, environ: Mapping[str, str] | None
):
    if name == "outbox":
        return OutboxTransport(config.outbox)
    if name == "smtp":
        return SmtpTransport(smtp_config(settings), environ)
    raise SendError(f"unknown transport {name!r} (use outbox or smtp)")


class _Editions:
    """Message templates per (language, target filter): rendered once, reused for every recipient."""

    def __init__(
        self, issue: Issue, settings: Settings, config: NewsletterConfig, secret: bytes, date: datetime
    ):
        self.issue, self.settings, self.config, self.secret, self.date = issue, settings, config, secret, date
        self.cache: dict[tuple[str, tuple[str, ...]], MessageTemplate | None] = {}

    def for_subscriber(self, subscriber: Subscriber) -> MessageTemplate | None:
        key = (subscriber.lang, subscriber.targets)
        if key not in self.cache:
            if not self.issue.for_targets(subscriber.targets) and self.issue.items:
                self.cache[key] = None  # nothing in this issue for these targets
            else:
                edition = render_edition(
                    self.issue, subscriber.lang, self.settings, self.config, targets=subscriber.targets
                )
                self.cache[key] = MessageTemplate(edition, self.settings, self.config, self.secret, self.date)
        return self.cache[key]


def _open_log(conn: sqlite3.Connection) -> None:
    SubscriberStore(conn)
    IssueStore(conn)
    statedb.ensure_schema(conn, "newsletter_delivery", MIGRATIONS)


def _claim(
    conn: sqlite3.Connection, issue: int, subscriber_id: int, msgid: str, transport: str, at: str
) -> bool:
    """Claim the row if the subscriber is still active and the message is not sent or refused."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        if row is None or row[0] != "active":
            conn.execute("ROLLBACK")
            return False
        cursor = conn.execute(
            "INSERT INTO newsletter_sends (issue, subscriber_id, status, message_id, transport, claimed_at) "
            "VALUES (?, ?, 'claimed', ?, ?, ?) "
            "ON CONFLICT (issue, subscriber_id) DO UPDATE SET status = 'claimed', claimed_at = excluded.claimed_at, "
            "transport = excluded.transport, attempts = CASE WHEN newsletter_sends.transport = excluded.transport "
            "THEN newsletter_sends.attempts ELSE 0 END, sent_at = NULL, next_attempt_at = NULL, last_error = NULL "
            "WHERE newsletter_sends.status IN ('claimed', 'temporary') "
            "OR (newsletter_sends.transport = 'outbox' AND excluded.transport <> 'outbox')",
            (issue, subscriber_id, msgid, transport, at),
        )
        claimed = cursor.rowcount == 1
        conn.execute("COMMIT")
        return claimed
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _record(conn: sqlite3.Connection, issue: int, subscriber_id: int, sql: str, params: tuple) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"UPDATE newsletter_sends SET {sql} WHERE issue = ? AND subscriber_id = ?",
            (*params, issue, subscriber_id),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def send_issue(
    settings: Settings,
    *,
    issue_number: int | None = None,
    transport_name: str | None = None,
    rate: float | None = None,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    to: str | None = None,
    lang: str | None = None,
    environ: Mapping[str, str] | None = None,
    progress: IO[str] | None = None,
    notes: Callable[[str], None] | None = None,
    retries_only: bool = False,
) -> SendSummary:
    """Send an issue (default: the latest) to every active subscriber who has not had it.

    ``now`` stamps the messages' Date and decides which retries are due; ``clock`` stamps the send
    log (default: the real clock, or ``now`` when given). ``to`` sends one test message to that
    address instead, outside the send log. ``retries_only`` sends only what the log already holds
    as due (temporary failures, claims of a run that died), to nobody new.
    """
    config = newsletter_config(settings)
    transport_name = transport_name or config.transport
    if transport_name not in ("outbox", "smtp"):
        raise SendError(f"unknown transport {transport_name!r} (use outbox or smtp)")
    if transport_name != "outbox":
        _require_https_links(settings, config)
    if clock is None:
        clock = (lambda: now) if now is not None else (lambda: datetime.now(settings.tz))
    now = now or clock()
    secret = secret_from_env(environ, allow_development=transport_name == "outbox")
    if secret.development and notes:
        notes("note: GOAL17_SECRET is not set; the outbox messages use the public development secret")
    if rate is None:
        rate = smtp_config(settings).rate if transport_name == "smtp" else 0.0
    signer = DkimSigner.from_config(config)
    limiter = RateLimiter(rate)

    with SendLock(lock_path(config)):
        conn = statedb.connect(config.state_dir)
        try:
            _open_log(conn)
            issues = IssueStore(conn)
            issue = issues.get(issue_number) if issue_number is not None else issues.latest()
            if issue is None:
                which = f"issue {issue_number}" if issue_number is not None else "any issue"
                raise SendError(f"there is no {which} to send; build one with: python -m pipeline newsletter")
            summary = SendSummary(issue=issue.number, transport=transport_name)
            editions = _Editions(issue, settings, config, secret.value, now)
            transport = make_transport(transport_name, settings, config, environ)
            try:
                if to is not None:
                    _send_test(to, issue, editions, transport, signer, config, now, lang or settings.language)
                    summary.test_to = to
                    return summary
                _send_all(
                    conn,
                    issue,
                    editions,
                    transport,
                    signer,
                    limiter,
                    config,
                    now,
                    clock,
                    summary,
                    progress,
                    retries_only,
                )
            finally:
                transport.close()
            return summary
        finally:
            conn.close()


def _require_https_links(settings: Settings, config: NewsletterConfig) -> None:
    """Refuse real mail whose unsubscribe or preferences link is not https.

    An explicit ``unsubscribe_url`` is checked with the settings; the default one comes from
    ``[site] base_url``, which may well be http:// for a local preview, so it is checked here.
    """
    for key, url in (
        ("unsubscribe_url", config.unsubscribe_url),
        ("preferences_url", config.preferences_url),
    ):
        if not is_one_click_url(url):
            raise SendError(
                f"{settings.source}: [newsletter] {key} is {url!r} (from [site] base_url unless set); "
                "real mail needs an https:// link (RFC 8058 one-click unsubscribe, required by Gmail and "
                f"Yahoo): set an https base_url or {key}; nothing sent"
            )


def _send_test(to, issue, editions, transport, signer, config, now, lang) -> None:
    address = normalize_email(to)
    fake = Subscriber(
        id=0,
        uid="test-message",
        email=address,
        lang=lang,
        targets=(),
        status="active",
        created_at=now,
        updated_at=now,
        confirmed_at=now,
        unsubscribed_at=None,
        consent_source="cli",
        consent_at=now,
        consent_page=None,
    )
    template = editions.for_subscriber(fake)
    prepared = template.personalise(
        fake.uid, address, msgid=test_message_id(issue.number, address, now, config)
    )
    if signer is not None:
        prepared = signer.sign_prepared(prepared)
    try:
        transport.send(prepared, config.bounce_address)
    except (TemporaryFailure, PermanentFailure, TransportUnavailable) as exc:
        raise SendError(f"the test message to {address} was not sent: {exc}") from None


def _send_all(
    conn,
    issue,
    editions,
    transport,
    signer,
    limiter,
    config,
    now,
    clock,
    summary,
    progress,
    retries_only=False,
) -> None:
    rows = conn.execute(
        "SELECT s.id AS sid, n.status AS send_status, n.next_attempt_at AS next_at, n.attempts AS attempts, "
        "n.transport AS sent_via "
        "FROM subscribers s LEFT JOIN newsletter_sends n ON n.issue = ? AND n.subscriber_id = s.id "
        "WHERE s.status = 'active' ORDER BY s.id",
        (issue.number,),
    ).fetchall()
    due_until = timestamp(now)
    work: list[int] = []
    for row in rows:
        status = row["send_status"]
        if retries_only and status not in ("claimed", "temporary"):
            continue  # not retrying: nobody new, nothing sent or refused
        if status is not None and row["sent_via"] == "outbox" and transport.name != "outbox":
            summary.outbox_before += 1  # only rehearsed in the outbox: deliver it for real now
            work.append(row["sid"])
        elif status == "sent":
            summary.already_sent += 1
        elif status == "permanent":
            summary.permanent_before += 1
        elif status == "temporary" and row["next_at"] and row["next_at"] > due_until:
            summary.waiting += 1
        else:
            if status == "claimed":
                summary.resumed += 1
            work.append(row["sid"])
    store = SubscriberStore(conn)
    bar = Progress(len(work), progress, f"issue {issue.number}")
    try:
        for subscriber_id in work:
            bar.step()
            subscriber = store.by_id(subscriber_id)
            if subscriber is None or not subscriber.mailable:
                continue
            template = editions.for_subscriber(subscriber)
            if template is None:
                summary.skipped_no_updates += 1
                continue
            prepared = template.personalise(subscriber.uid, subscriber.email)
            if not _claim(
                conn, issue.number, subscriber.id, prepared.message_id, transport.name, timestamp(clock())
            ):
                continue
            if signer is not None:
                prepared = signer.sign_prepared(prepared)
            _deliver(conn, issue.number, subscriber, prepared, transport, limiter, config, clock, summary)
    finally:
        bar.finish()


def _deliver(
    conn, issue_number, subscriber, prepared: Prepared, transport, limiter, config, clock, summary
) -> None:
    limiter.wait()
    try:
        transport.send(prepared, config.bounce_address)
    except TemporaryFailure as exc:
        row = conn.execute(
            "SELECT attempts FROM newsletter_sends WHERE issue = ? AND subscriber_id = ?",
            (issue_number, subscriber.id),
        ).fetchone()
        attempts = (row[0] if row else 0) + 1
        if attempts >= MAX_ATTEMPTS:
            _record(
                conn,
                issue_number,
                subscriber.id,
                "status = 'permanent', attempts = ?, last_error = ?",
                (attempts, f"gave up after {attempts} attempts: {exc}"),
            )
            summary.permanent += 1
        else:
            retry_at = timestamp(clock() + backoff(attempts))
            _record(
                conn,
                issue_number,
                subscriber.id,
                "status = 'temporary', attempts = ?, next_attempt_at = ?, last_error = ?",
                (attempts, retry_at, str(exc)),
            )
            summary.temporary += 1
        summary.errors.append(f"{subscriber.email}: {exc}")
        return
    except PermanentFailure as exc:
        _record(
            conn,
            issue_number,
            subscriber.id,
            "status = 'permanent', attempts = attempts + 1, last_error = ?",
            (str(exc),),
        )
        summary.permanent += 1
        summary.errors.append(f"{subscriber.email}: {exc}")
        return
    except TransportUnavailable as exc:
        # Nothing was handed over: release the claim so the next run sends it without counting a failure.
        _record(
            conn,
            issue_number,
            subscriber.id,
            "status = 'temporary', next_attempt_at = NULL, last_error = ?",
            (str(exc),),
        )
        raise SendError(f"{exc}; {summary.sent} sent before stopping, run send again to continue") from None
    _record(
        conn,
        issue_number,
        subscriber.id,
        "status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL",
        (timestamp(clock()),),
    )
    summary.sent += 1


def issues_with_retries_due(settings: Settings, now: datetime) -> list[int]:
    """Issues whose send log holds a retry that is due at ``now`` (a temporary failure whose
    backoff has passed, or a claim left by a run that died), oldest first."""
    config = newsletter_config(settings)
    conn = statedb.connect(config.state_dir)
    try:
        _open_log(conn)
        rows = conn.execute(
            "SELECT DISTINCT n.issue FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id "
            "WHERE s.status = 'active' AND (n.status = 'claimed' OR (n.status = 'temporary' AND "
            "(n.next_attempt_at IS NULL OR n.next_attempt_at <= ?))) ORDER BY n.issue",
            (timestamp(now),),
        ).fetchall()
        return [row[0] for row in rows]
    finally:
        conn.close()


def send_log(settings: Settings, issue_number: int) -> list[dict]:
    """The send log of one issue (for reports and tests)."""
    config = newsletter_config(settings)
    conn = statedb.connect(config.state_dir)
    try:
        _open_log(conn)
        rows = conn.execute(
            "SELECT s.email, n.status, n.attempts, n.message_id, n.transport, n.sent_at, n.next_attempt_at, n.last_error "
            "FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id WHERE n.issue = ? ORDER BY s.id",
            (issue_number,),
        ).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()


def stderr_notes(message: str) -> None:
    print(message, file=sys.stderr)


__all__ = ["SendBusy", "SendError", "SendSummary", "issues_with_retries_due", "send_issue", "send_log"]
