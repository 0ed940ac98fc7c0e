"""Delivering an issue exactly once per reader: the send log, the lock, retries, the report.

**The delivery invariant.** For every issue and every reader active when the issue's send
starts, the reader gets exactly one copy, or the send log holds a permanent failure with the
server's reply (or, for a message lost in an ambiguous way twice, why) — never silence. An
interrupted send (outage, kill, full disk, 421, timeout at any SMTP stage) is completed by the
next ``send`` or ``send --retries-only`` run. Exceptions, each bounded: a run killed after the
server accepted a message and before the log recorded it resends that one message (one extra
copy per kill); an ambiguous outcome (the connection lost after the message data went out,
before the final reply) is resent once, with the same Message-ID (one extra copy at most if the
server had it after all). A reader who unsubscribes before their turn is not mailed (``skipped``).

How the code keeps it. The send log (``newsletter_sends``, read and written only through
``sendlog``) has one row per (issue, reader) — the primary key; ``sendreport`` turns a run's
outcomes into its summary and exit code:

1. **queue**: when a full send of an issue starts, one transaction writes a ``queued`` row for
   every active reader who has something in the issue and no row yet. From then on the issue's
   send has *started*, and the rows say who is still owed a copy, whatever happens next;
2. **claim**: in one transaction, check the reader is still active and mark the row
   ``claimed``; commit (durable before anything leaves);
3. hand the message to the transport;
4. record the outcome: ``sent``; ``temporary`` (4xx, a lost connection: retried by later runs
   after a backoff of 5 min × 2^(attempts−1), at most 6 h, permanent after 8 attempts);
   ``permanent`` (5xx: recorded with the reply, never retried). When the transport cannot send
   at all (server down, 4xx greeting, refused login), the claimed row is put back exactly as it
   was — no attempt used — and the run stops; the next run continues.

Every run — ``send`` as well as ``send --retries-only`` — first completes every issue whose log
still holds ``queued`` or ``claimed`` rows or due retries for the same transport (oldest issue
first), then (``send`` only) the issue asked for. So an outage at the start of the weekly send
delays the issue for everyone until the server is back, and loses it for nobody.

A run holds an exclusive lock (``flock`` on ``send.lock`` in the state folder, released by the
kernel even on SIGKILL), so two ``send`` processes never work at once; a row still ``claimed``
when a run starts was in flight when an earlier run died, and is sent again.

The outbox is for checking, not delivery: when the SMTP send of an issue starts, the readers
whose copy only went to the outbox are queued for SMTP, so rehearsing an issue never keeps it
from its readers; and an outbox run never takes over a row owed by the SMTP send.

Exit codes (``SendReport.exit_code``): 0 nobody is owed anything; 3 someone still is (a later run
continues); 4 this run refused or lost someone for good. Why each module-level choice: see
docs/newsletter.md, "The delivery invariant".
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO

from pipeline.config.mail import NewsletterConfig, is_one_click_url
from pipeline.config.site import Settings
from pipeline.delivery import send_log as sends
from pipeline.delivery.issues import Issue, IssueStore
from pipeline.delivery.message import DkimSigner, MessageTemplate, Prepared, test_message_id
from pipeline.delivery.send_log import MAX_ATTEMPTS, PENDING, backoff
from pipeline.delivery.send_report import (
    EXIT_DEFERRED,
    EXIT_DELIVERED,
    EXIT_FAILED,
    SendReport,
    SendSummary,
)
from pipeline.delivery.tokens import secret_from_env
from pipeline.delivery.transports import (
    Ambiguous,
    DeliveryFailure,
    MessagePacer,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
    UnknownTransport,
    transport_kind,
)
from pipeline.outputs.newsletter.render import render_edition
from pipeline.progress import Progress
from pipeline.stores import statedb
from pipeline.stores.locks import FileLock, LockBusy
from pipeline.stores.state_paths import lock_path
from pipeline.stores.subscribers import Subscriber, SubscriberStore, normalize_email, timestamp


class SendError(Exception):
    """The run could not start or had to stop; nothing is left half-recorded."""


class SendBusy(SendError):
    """Another ``send`` holds the lock."""


class SendLock:
    """One ``send`` per state folder (:class:`~pipeline.stores.locks.FileLock`, refusing at once)."""

    def __init__(self, path: Path):
        self.lock = FileLock(path)

    def __enter__(self) -> SendLock:
        try:
            self.lock.acquire()
        except LockBusy as busy:
            holder = busy.pid or "?"
            raise SendBusy(f"another send is already running (pid {holder}); nothing sent") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


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


def send_issue(settings: Settings, *, issue_number: int | None = None, **options) -> SendSummary:
    """Send one issue (default: the latest) to every active reader who has not had it.

    The same as :func:`send_run` limited to that one issue (other issues' pending work waits for
    the next run); a run that had to stop raises :class:`SendError`. Options as for ``send_run``.
    """
    report = send_run(settings, issue_number=issue_number, only_this_issue=True, **options)
    if report.stopped:
        done = sum(s.sent for s in report.summaries)
        raise SendError(f"{report.stopped}; {done} sent before stopping, run send again to continue")
    if report.summaries:
        return report.summaries[-1]
    return SendSummary(issue=issue_number or 0, transport=report.transport)


def send_run(
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
    only_this_issue: bool = False,
) -> SendReport:
    """One ``send`` run: complete every interrupted send of this transport, then send the issue asked for.

    ``issue_number`` defaults to the latest issue (with ``retries_only``: no issue of its own,
    only the pending work). ``now`` stamps the messages' Date and decides which retries are due;
    ``clock`` stamps the send log (default: the real clock, or ``now`` when given). ``to`` sends
    one test message to that address instead, outside the send log. ``retries_only`` queues
    nobody new. A server that cannot be reached (or refuses the connection with 4xx) stops the run
    with ``report.stopped`` set; other reasons it cannot run raise :class:`SendError`.
    """
    config = settings.newsletter
    transport_name = transport_name or config.transport
    try:
        kind = transport_kind(transport_name)
    except UnknownTransport as exc:
        raise SendError(str(exc)) from None
    kind.check(settings)
    if kind.reaches_readers:
        _require_https_links(settings, config)
    if clock is None:
        clock = (lambda: now) if now is not None else (lambda: datetime.now(settings.tz))
    now = now or clock()
    secret = secret_from_env(environ, allow_development=not kind.reaches_readers)
    if secret.development and notes:
        notes(
            f"note: GOAL17_SECRET is not set; the {transport_name} messages use the public development secret"
        )
    if rate is None:
        rate = kind.default_rate(settings)
    signer = DkimSigner.from_config(config)
    limiter = MessagePacer(rate)
    report = SendReport(transport=transport_name)

    with SendLock(lock_path(config)):
        conn = statedb.connect(config.state_dir)
        try:
            sends.open_log(conn)
            issues = IssueStore(conn)
            target: Issue | None = None
            if issue_number is not None or not retries_only:
                target = issues.get(issue_number) if issue_number is not None else issues.latest()
                if target is None:
                    which = f"issue {issue_number}" if issue_number is not None else "any issue"
                    raise SendError(
                        f"there is no {which} to send; build one with: python -m pipeline newsletter"
                    )
            transport = kind.make(settings, environ)
            try:
                if to is not None:
                    assert target is not None
                    editions = _Editions(target, settings, config, secret.value, now)
                    _send_test(
                        to, target, editions, transport, signer, config, now, lang or settings.language
                    )
                    report.summaries.append(
                        SendSummary(issue=target.number, transport=transport_name, test_to=to)
                    )
                    return report
                converted = 0
                if target is not None and not retries_only:
                    # The settings, the secret and the transport's own settings were checked: a run
                    # that cannot start on those (exit 1) starts nothing. The send of this issue
                    # starts now, before any connection: from here on the log says who is owed a
                    # copy, even if the server is down for the whole run.
                    _, converted = sends.queue(
                        conn,
                        target,
                        SubscriberStore(conn).active(),
                        config,
                        transport_name,
                        timestamp(clock()),
                    )
                plan: list[tuple[Issue, bool]] = []  # (issue, retries only)
                if not only_this_issue:
                    for number in sends.issues_with_work(conn, now, transport_name):
                        if target is None or number != target.number:
                            plan.append((issues.get(number), True))  # type: ignore[arg-type]
                if target is not None:
                    plan.append((target, retries_only))
                plan.sort(key=lambda item: item[0].number)
                run = _Run(
                    conn, transport, signer, limiter, config, settings, secret.value, now, clock, progress
                )
                for issue, only_retries in plan:
                    summary = SendSummary(issue=issue.number, transport=transport_name)
                    if target is not None and issue.number == target.number:
                        summary.outbox_before = converted
                    report.summaries.append(summary)
                    try:
                        run.issue(issue, summary, only_retries)
                    except _Stopped as stop:
                        report.stopped = str(stop)
                        summary.totals = sends.totals(conn, issue.number)
                        break
                    summary.totals = sends.totals(conn, issue.number)
            finally:
                transport.close()
            report.pending_after = sends.pending(conn, transport_name)
            return report
        finally:
            conn.close()


class _Stopped(Exception):
    """The transport can send nothing now (transient): the run stops, the rest stays queued."""


class _Run:
    """The per-run context shared by the issues of one ``send`` run."""

    def __init__(self, conn, transport, signer, limiter, config, settings, secret, now, clock, progress):
        self.conn, self.transport, self.signer, self.limiter = conn, transport, signer, limiter
        self.config, self.settings, self.secret = config, settings, secret
        self.now, self.clock, self.progress = now, clock, progress
        self.opened = False

    def issue(self, issue: Issue, summary: SendSummary, retries_only: bool) -> None:
        conn = self.conn
        store = SubscriberStore(conn)
        summary.unsubscribed = sends.skip_inactive(conn, issue.number, timestamp(self.clock()))
        rows = conn.execute(
            "SELECT s.id AS sid, n.status AS send_status, n.next_attempt_at AS next_at, n.transport AS sent_via "
            "FROM subscribers s LEFT JOIN newsletter_sends n ON n.issue = ? AND n.subscriber_id = s.id "
            "WHERE s.status = 'active' ORDER BY s.id",
            (issue.number,),
        ).fetchall()
        due_until = timestamp(self.now)
        work: list[int] = []
        for row in rows:
            status = row["send_status"]
            if retries_only and status not in PENDING:
                continue  # not retrying: nobody new, nothing sent or refused
            if status is None:
                summary.skipped_no_updates += 1  # not queued: nothing in the issue for their targets
            elif status in PENDING and self.transport.name == "outbox" and row["sent_via"] != "outbox":
                summary.other_transport += 1  # owed by a real send: a rehearsal never takes it over
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
        if not work:
            return
        if not self.opened:
            self._open(summary, len(work))
        editions = _Editions(issue, self.settings, self.config, self.secret, self.now)
        bar = Progress(
            f"issue {issue.number}",
            len(work),
            stream=self.progress,
            enabled=None if self.progress is not None else False,
        )
        try:
            for index, subscriber_id in enumerate(work):
                bar.advance()
                subscriber = store.by_id(subscriber_id)
                if subscriber is None or not subscriber.mailable:
                    # unsubscribed since the run began: skipped, not left queued (and reported
                    # as deferred) for a retry no run would make
                    summary.unsubscribed += sends.skip_inactive(conn, issue.number, timestamp(self.clock()))
                    continue
                template = editions.for_subscriber(subscriber)
                if template is None:
                    summary.skipped_no_updates += 1
                    sends.record(
                        conn,
                        issue.number,
                        subscriber.id,
                        "status = 'skipped', last_error = 'nothing in this issue for their targets'",
                        (),
                    )
                    continue
                prepared = template.personalise(subscriber.uid, subscriber.email)
                before = sends.snapshot(conn, issue.number, subscriber.id)
                if not sends.claim(
                    conn,
                    issue.number,
                    subscriber.id,
                    prepared.message_id,
                    self.transport.name,
                    timestamp(self.clock()),
                ):
                    continue
                if self.signer is not None:
                    prepared = self.signer.sign_prepared(prepared)
                try:
                    self._deliver(issue.number, subscriber, prepared, summary)
                except TransportUnavailable as exc:
                    # Nothing of this message was handed over: the row goes back as it was.
                    sends.restore(conn, issue.number, subscriber.id, before)
                    summary.not_reached = len(work) - index
                    if exc.transient:
                        raise _Stopped(str(exc)) from None
                    raise SendError(
                        f"{exc}; {summary.sent} sent before stopping, run send again to continue"
                    ) from None
        finally:
            bar.close()

    def _open(self, summary: SendSummary, count: int) -> None:
        try:
            self.transport.open()
        except TransportUnavailable as exc:
            summary.not_reached = count
            if exc.transient:
                raise _Stopped(str(exc)) from None
            raise SendError(f"{exc}; nothing sent, run send again to continue") from None
        self.opened = True

    def _deliver(
        self, issue_number: int, subscriber: Subscriber, prepared: Prepared, summary: SendSummary
    ) -> None:
        conn, clock = self.conn, self.clock
        self.limiter.wait()
        try:
            self.transport.send(prepared, self.config.bounce_address)
        except TemporaryFailure as exc:
            row = conn.execute(
                "SELECT attempts, ambiguous FROM newsletter_sends WHERE issue = ? AND subscriber_id = ?",
                (issue_number, subscriber.id),
            ).fetchone()
            attempts = row[0] + 1
            ambiguous = row[1] + (1 if isinstance(exc, Ambiguous) else 0)
            if isinstance(exc, Ambiguous) and ambiguous > 1:
                why = f"lost: {_why(exc)}, for the second time; not resent again (it may have arrived)"
                self._permanent(issue_number, subscriber, summary, attempts, ambiguous, why)
            elif attempts >= MAX_ATTEMPTS:
                why = f"gave up after {attempts} attempts: {_why(exc)}"
                self._permanent(issue_number, subscriber, summary, attempts, ambiguous, why)
            else:
                retry_at = timestamp(clock() + backoff(attempts))
                sends.record(
                    conn,
                    issue_number,
                    subscriber.id,
                    "status = 'temporary', attempts = ?, ambiguous = ?, next_attempt_at = ?, last_error = ?",
                    (attempts, ambiguous, retry_at, str(exc)),
                )
                summary.temporary += 1
                summary.deferred_why[_why(exc)] += 1
            summary.errors.append(f"{subscriber.email}: {exc}")
            return
        except PermanentFailure as exc:
            sends.record(
                conn,
                issue_number,
                subscriber.id,
                "status = 'permanent', attempts = attempts + 1, next_attempt_at = NULL, last_error = ?",
                (str(exc),),
            )
            summary.permanent += 1
            summary.refused_why[_why(exc)] += 1
            summary.errors.append(f"{subscriber.email}: {exc}")
            return
        sends.record(
            conn,
            issue_number,
            subscriber.id,
            "status = 'sent', attempts = attempts + 1, sent_at = ?, next_attempt_at = NULL, last_error = NULL",
            (timestamp(clock()),),
        )
        summary.sent += 1

    def _permanent(self, issue_number, subscriber, summary, attempts, ambiguous, why: str) -> None:
        sends.record(
            self.conn,
            issue_number,
            subscriber.id,
            "status = 'permanent', attempts = ?, ambiguous = ?, next_attempt_at = NULL, last_error = ?",
            (attempts, ambiguous, why),
        )
        summary.permanent += 1
        summary.refused_why[why] += 1


def _why(exc: DeliveryFailure) -> str:
    """The reason without the address, so the same reply groups into one line."""
    return getattr(exc, "reason", None) or str(exc)


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


def issues_with_retries_due(settings: Settings, now: datetime, transport: str | None = None) -> list[int]:
    """Issues whose send log holds work that is due at ``now`` — readers queued when the send
    started and not reached yet, claims left by a run that died, temporary failures whose backoff
    has passed — oldest first (of ``transport`` only, if given)."""
    config = settings.newsletter
    conn = statedb.connect(config.state_dir)
    try:
        sends.open_log(conn)
        return sends.issues_with_work(conn, now, transport)
    finally:
        conn.close()


def send_log(settings: Settings, issue_number: int) -> list[dict]:
    """The send log of one issue (for reports and tests)."""
    config = settings.newsletter
    conn = statedb.connect(config.state_dir)
    try:
        sends.open_log(conn)
        rows = conn.execute(
            "SELECT s.email, n.status, n.attempts, n.ambiguous, n.message_id, n.transport, n.sent_at, "
            "n.next_attempt_at, n.last_error "
            "FROM newsletter_sends n JOIN subscribers s ON s.id = n.subscriber_id WHERE n.issue = ? ORDER BY s.id",
            (issue_number,),
        ).fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()


def stderr_notes(message: str) -> None:
    print(message, file=sys.stderr)


__all__ = [
    "EXIT_DEFERRED",
    "EXIT_DELIVERED",
    "EXIT_FAILED",
    "SendBusy",
    "SendError",
    "SendReport",
    "SendSummary",
    "issues_with_retries_due",
    "send_issue",
    "send_log",
    "send_run",
]
