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

How the code keeps it. The send log (``newsletter_sends``, read and written only through the
``SendLog`` protocol of ``delivery.send_log``, one implementation per backend) has one row per
(issue, reader) — the primary key; ``send_batches`` works through one issue's rows;
``send_report`` turns a run's outcomes into its summary and exit code:

1. **queue**: when a full send of an issue starts, one transaction writes a ``queued`` row for
   every active reader who has something in the issue and no row yet. From then on the issue's
   send has *started*, and the rows say who is still owed a copy, whatever happens next;
2. **claim**: in one transaction, check the reader is still active and mark the row
   ``claimed``; commit (durable before anything leaves). On PostgreSQL a sender claims a batch
   under a lease it renews while it lives, so several senders share one issue;
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

On SQLite a run holds an exclusive lock (``flock`` on ``send.lock`` in the state folder, released
by the kernel even on SIGKILL), so two ``send`` processes never work at once; on PostgreSQL any
number may run, each on rows no other holds. A row still ``claimed`` when a run finds it (and no
live sender's lease covers it) was in flight when a sender died, and is sent again.

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
from contextlib import ExitStack
from datetime import datetime
from typing import IO

from pipeline.config.mail import NewsletterConfig, is_one_click_url
from pipeline.config.site import Settings
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import DkimSigner
from pipeline.delivery.send_batches import SendContext, send_issue_rows
from pipeline.delivery.send_errors import SendBusy, SendError, Stopped
from pipeline.delivery.send_report import (
    EXIT_DEFERRED,
    EXIT_DELIVERED,
    EXIT_FAILED,
    SendReport,
    SendSummary,
)
from pipeline.delivery.single_message import send_test_message
from pipeline.delivery.tokens import secret_from_env
from pipeline.delivery.transports import OutboxTransport, SmtpTransport
from pipeline.stores.backend import open_backend
from pipeline.stores.sqlite.send_log import SendLock
from pipeline.stores.subscribers import timestamp


def make_transport(
    name: str, settings: Settings, config: NewsletterConfig, environ: Mapping[str, str] | None
):
    if name == "outbox":
        return OutboxTransport(config.outbox)
    if name == "smtp":
        return SmtpTransport(settings.smtp, environ)
    raise SendError(f"unknown transport {name!r} (use outbox or smtp)")


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
        rate = settings.smtp.rate if transport_name == "smtp" else 0.0
    signer = DkimSigner.from_config(config)
    report = SendReport(transport=transport_name)
    backend = open_backend(settings)

    with ExitStack() as stack:
        log = stack.enter_context(backend.send_log())
        stack.enter_context(log.running())
        issues = stack.enter_context(backend.issues())
        subscribers = stack.enter_context(backend.subscribers())
        target: Issue | None = None
        if issue_number is not None or not retries_only:
            target = issues.get(issue_number) if issue_number is not None else issues.latest()
            if target is None:
                which = f"issue {issue_number}" if issue_number is not None else "any issue"
                raise SendError(f"there is no {which} to send; build one with: python -m pipeline newsletter")
        transport = make_transport(transport_name, settings, config, environ)
        try:
            if to is not None:
                assert target is not None
                send_test_message(
                    to, target, settings, transport, signer, secret.value, now, lang or settings.language
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
                _, converted = log.queue(
                    target, subscribers.active(), config, transport_name, timestamp(clock())
                )
            plan: list[tuple[Issue, bool]] = []  # (issue, retries only)
            if not only_this_issue:
                for number in log.issues_with_work(now, transport_name):
                    if target is None or number != target.number:
                        plan.append((issues.get(number), True))
            if target is not None:
                plan.append((target, retries_only))
            plan.sort(key=lambda item: item[0].number)
            context = SendContext(
                log=log,
                subscribers=subscribers,
                transport=transport,
                signer=signer,
                pacer=log.pacer(rate),
                settings=settings,
                config=config,
                secret=secret.value,
                now=now,
                clock=clock,
                progress=progress,
            )
            for issue, only_retries in plan:
                summary = SendSummary(issue=issue.number, transport=transport_name)
                if target is not None and issue.number == target.number:
                    summary.outbox_before = converted
                report.summaries.append(summary)
                try:
                    send_issue_rows(context, issue, summary, only_retries)
                except Stopped as stop:
                    report.stopped = str(stop)
                    summary.totals = log.totals(issue.number)
                    break
                summary.totals = log.totals(issue.number)
        finally:
            transport.close()
        report.pending_after = log.pending(transport_name)
        return report


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


def issues_with_retries_due(settings: Settings, now: datetime, transport: str | None = None) -> list[int]:
    """Issues whose send log holds work that is due at ``now`` — readers queued when the send
    started and not reached yet, claims left by a run that died, temporary failures whose backoff
    has passed — oldest first (of ``transport`` only, if given)."""
    with open_backend(settings).send_log() as log:
        return log.issues_with_work(now, transport)


def send_log(settings: Settings, issue_number: int) -> list[dict]:
    """The send log of one issue (for reports and tests)."""
    with open_backend(settings).send_log() as log:
        return log.rows(issue_number)


def stderr_notes(message: str) -> None:
    print(message, file=sys.stderr)


__all__ = [
    "EXIT_DEFERRED",
    "EXIT_DELIVERED",
    "EXIT_FAILED",
    "SendBusy",
    "SendError",
    "SendLock",
    "SendReport",
    "SendSummary",
    "issues_with_retries_due",
    "make_transport",
    "send_issue",
    "send_log",
    "send_run",
]
