"""One issue of a ``send`` run: claim due rows in batches, hand each message over, record the outcome.

The steps for every row (see ``delivery.send_run`` for the invariant they keep):

1. **claim** it (:meth:`SendLog.claim`, one transaction that checks the reader is still active);
   committed before anything leaves. SQLite claims one row at a time (one sender); PostgreSQL
   claims a batch under a lease, so several senders share an issue without ever holding the same
   row, and a dead sender's rows come back when its lease runs out;
2. hand the message to the transport, at the pace of ``[smtp] rate`` (:class:`Pacer`: the process's
   own on SQLite, shared by every sender on PostgreSQL);
3. record the outcome: ``sent``; ``temporary`` (4xx, a lost connection: retried after
   :func:`backoff`, permanent after ``MAX_ATTEMPTS``); ``permanent`` (5xx, or lost twice). When
   the transport cannot send at all, the rows still held go back exactly as they were — no attempt
   used — and the run stops.

With several senders, a sender that has gone through the issue looks again from the start: what
another sender released, or left behind when it died, is taken over; while other live senders still
hold rows of the issue, it waits for them (a lease that stops being renewed ends the wait).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import Settings
from pipeline.delivery.editions import EditionTemplates
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import DkimSigner, Prepared
from pipeline.delivery.send_errors import SendError, Stopped
from pipeline.delivery.send_log import (
    MAX_ATTEMPTS,
    NOTHING_FOR_TARGETS,
    Claim,
    Pacer,
    SendLog,
    backoff,
)
from pipeline.delivery.send_report import SendSummary
from pipeline.delivery.transports import (
    Ambiguous,
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
)
from pipeline.stores.subscribers import Subscriber, timestamp


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
        filled = width * min(self.done, self.total) // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is not None and self.total:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class SendContext:
    """What every issue of one run shares: the stores, the transport, the pace, the clocks.

    ``now`` stamps the messages' Date and decides which retries are due; ``clock`` stamps the
    send log. ``poll`` is how long a sender waits between looks at rows other senders hold.
    """

    log: SendLog
    subscribers: Any  # the backend's subscriber store (``by_id``)
    transport: Any  # a transport of ``delivery.transports`` (open, send, close, name)
    signer: DkimSigner | None
    pacer: Pacer
    settings: Settings
    config: NewsletterConfig
    secret: bytes
    now: datetime
    clock: Callable[[], datetime]
    progress: IO[str] | None = None
    poll: float = 0.5
    opened: bool = False

    def stamp(self) -> str:
        return timestamp(self.clock())


def send_issue_rows(ctx: SendContext, issue: Issue, summary: SendSummary, retries_only: bool) -> None:
    """Work through every due row of ``issue`` (see the module docstring); counts go to ``summary``."""
    log, number, transport = ctx.log, issue.number, ctx.transport.name
    summary.unsubscribed = log.skip_inactive(number, ctx.stamp())
    due_until = timestamp(ctx.now)
    seen = log.overview(number, transport, due_until, retries_only)
    summary.skipped_no_updates += seen.skipped_no_updates
    summary.other_transport += seen.other_transport
    summary.already_sent += seen.already_sent
    summary.permanent_before += seen.permanent_before
    summary.waiting += seen.waiting
    summary.other_sender += seen.other_sender
    if not seen.due and not seen.other_sender:
        return
    if seen.due and not ctx.opened:
        _open(ctx, summary, seen.due)
    editions = EditionTemplates(issue, ctx.settings, ctx.config, ctx.secret, ctx.now)
    bar = Progress(seen.due, ctx.progress, f"issue {number}")
    handled, after, again = 0, 0, False
    try:
        while True:
            batch = log.claim(
                number,
                transport,
                due_until,
                retries_only,
                ctx.stamp(),
                after=after,
                limit=log.batch,
                again=again,
            )
            if not batch:
                if log.exclusive:
                    break  # one sender: one pass sees every row
                if not again:
                    again, after = True, 0  # take over what others released or left behind
                    continue
                if not log.held_elsewhere(number):
                    break
                time.sleep(ctx.poll)  # live senders still hold rows: wait for them or their lease
                after = 0
                continue
            after = batch[-1].subscriber_id
            if not ctx.opened:
                _open(ctx, summary, max(seen.due - handled, len(batch)), held=(log, number, batch))
            for index, claim in enumerate(batch):
                bar.step()
                try:
                    _send_claimed(ctx, issue, claim, editions, summary)
                except TransportUnavailable as exc:
                    # Nothing of this message was handed over: it and the rest of the batch go back.
                    log.release(number, batch[index:])
                    summary.not_reached = max(seen.due - handled, len(batch) - index)
                    if exc.transient:
                        raise Stopped(str(exc)) from None
                    raise SendError(
                        f"{exc}; {summary.sent} sent before stopping, run send again to continue"
                    ) from None
                except BaseException:
                    with contextlib.suppress(Exception):  # the error that stopped us matters more
                        log.release(number, batch[index + 1 :])  # not started: back as they were
                    raise
                handled += 1
        # Readers who unsubscribed during the run are no longer claimable: skipped, not left
        # queued (and reported as deferred) for a retry no run would make.
        summary.unsubscribed += log.skip_inactive(number, ctx.stamp())
    finally:
        bar.finish()


def _open(
    ctx: SendContext,
    summary: SendSummary,
    count: int,
    held: tuple[SendLog, int, Sequence[Claim]] | None = None,
) -> None:
    try:
        ctx.transport.open()
    except TransportUnavailable as exc:
        if held is not None:
            held[0].release(held[1], held[2])
        summary.not_reached = count
        if exc.transient:
            raise Stopped(str(exc)) from None
        raise SendError(f"{exc}; nothing sent, run send again to continue") from None
    ctx.opened = True


def _send_claimed(
    ctx: SendContext, issue: Issue, claim: Claim, editions: EditionTemplates, summary: SendSummary
) -> None:
    log, number = ctx.log, issue.number
    subscriber = ctx.subscribers.by_id(claim.subscriber_id)
    if subscriber is None or not subscriber.mailable:
        # unsubscribed since the run began: skipped, not left queued (and reported as deferred)
        # for a retry no run would make
        summary.unsubscribed += log.skip_inactive(number, ctx.stamp())
        return
    template = editions.for_subscriber(subscriber)
    if template is None:
        summary.skipped_no_updates += 1
        log.mark_skipped(number, subscriber.id, NOTHING_FOR_TARGETS)
        return
    prepared = template.personalise(subscriber.uid, subscriber.email)
    if prepared.message_id != claim.before.get("message_id"):
        log.set_message_id(number, subscriber.id, prepared.message_id)
    if claim.resumed:
        summary.resumed += 1
    if ctx.signer is not None:
        prepared = ctx.signer.sign_prepared(prepared)
    _deliver(ctx, number, subscriber, prepared, summary)


def _deliver(
    ctx: SendContext, number: int, subscriber: Subscriber, prepared: Prepared, summary: SendSummary
) -> None:
    log = ctx.log
    ctx.pacer.wait()
    try:
        ctx.transport.send(prepared, ctx.config.bounce_address)
    except TemporaryFailure as exc:
        attempts, ambiguous = log.attempts(number, subscriber.id)
        attempts += 1
        ambiguous += 1 if isinstance(exc, Ambiguous) else 0
        if isinstance(exc, Ambiguous) and ambiguous > 1:
            why = f"lost: {_why(exc)}, for the second time; not resent again (it may have arrived)"
            _permanent(ctx, number, subscriber, summary, attempts, ambiguous, why)
        elif attempts >= MAX_ATTEMPTS:
            why = f"gave up after {attempts} attempts: {_why(exc)}"
            _permanent(ctx, number, subscriber, summary, attempts, ambiguous, why)
        else:
            retry_at = timestamp(ctx.clock() + backoff(attempts))
            log.mark_temporary(number, subscriber.id, attempts, ambiguous, retry_at, str(exc))
            summary.temporary += 1
            summary.deferred_why[_why(exc)] += 1
        summary.errors.append(f"{subscriber.email}: {exc}")
        return
    except PermanentFailure as exc:
        log.mark_permanent(number, subscriber.id, str(exc))
        summary.permanent += 1
        summary.refused_why[_why(exc)] += 1
        summary.errors.append(f"{subscriber.email}: {exc}")
        return
    log.mark_sent(number, subscriber.id, ctx.stamp())
    summary.sent += 1


def _permanent(
    ctx: SendContext,
    number: int,
    subscriber: Subscriber,
    summary: SendSummary,
    attempts: int,
    ambiguous: int,
    why: str,
) -> None:
    ctx.log.mark_permanent(number, subscriber.id, why, attempts, ambiguous)
    summary.permanent += 1
    summary.refused_why[why] += 1


def _why(exc: DeliveryFailure) -> str:
    """The reason without the address, so the same reply groups into one line."""
    return getattr(exc, "reason", None) or str(exc)


__all__ = ["Progress", "SendContext", "send_issue_rows"]
