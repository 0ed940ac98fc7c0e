"""The send log's rules and its interface (:class:`SendLog`); the SQL is in ``pipeline.stores``.

One row per (issue, reader) — the primary key — with its status:

- ``queued``: owed a copy since the issue's send started (:meth:`SendLog.queue`);
- ``claimed``: being handed to the transport now; still ``claimed`` when a run finds it (and no
  live sender holds it), it was in flight when a sender died, and is sent again;
- ``sent``, ``temporary`` (retried after :func:`backoff`), ``permanent`` (with the reply, or why
  it was lost), ``skipped`` (no longer subscribed, or nothing for their targets, at their turn).

``ambiguous`` counts the outcomes where the data went out and no final reply came back: the
message is resent once, never twice. The run that uses these rows is ``delivery.send_run``.

Two implementations, chosen once by the backend (``pipeline.stores.backend``):
``stores/sqlite/send_log.py`` — one sender per state folder (:class:`SendLock`), a row claimed just
before it goes out; ``stores/postgres/send_log.py`` — any number of senders on any machines, each
claiming rows in batches (``FOR UPDATE SKIP LOCKED``) under a lease it renews while it works, so a
dead sender's claims are taken over when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pipeline.config.mail import NewsletterConfig
from pipeline.delivery.issues import Issue
from pipeline.stores.subscribers import Subscriber

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
PENDING = ("queued", "claimed", "temporary")  # owed a copy, not yet done
STATUSES = ("queued", "claimed", "sent", "temporary", "permanent", "skipped")

COLUMNS = (
    "status",
    "attempts",
    "ambiguous",
    "message_id",
    "transport",
    "claimed_at",
    "sent_at",
    "next_attempt_at",
    "last_error",
)
NOTHING_FOR_TARGETS = "nothing in this issue for their targets"
NO_LONGER_SUBSCRIBED = "no longer subscribed when their turn came"


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th temporary failure a message is due again."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True)
class Claim:
    """A row this sender holds now; ``before`` is the row as it was (put back if nothing went out)."""

    subscriber_id: int
    before: dict

    @property
    def resumed(self) -> bool:
        """It was claimed before: in flight when a sender died, so it may have arrived (sent again)."""
        return self.before.get("status") == "claimed"


@dataclass
class Overview:
    """Where one issue's readers stand as a run starts on it (what the run's summary reports)."""

    due: int = 0  # rows this run may claim now
    skipped_no_updates: int = 0  # no row: nothing in the issue for their targets
    other_transport: int = 0  # an outbox run: owed by a real send, left to it
    already_sent: int = 0
    permanent_before: int = 0
    waiting: int = 0  # a temporary failure whose retry is not due yet
    other_sender: int = 0  # claimed by another live sender right now (PostgreSQL)


def overview_of(
    rows: Sequence[tuple[str | None, str | None, str | None, bool]],
    transport: str,
    due_until: str,
    retries_only: bool,
) -> Overview:
    """Count the active readers' rows — (status, next_attempt_at, transport, held by a live sender).

    The rule is the run's, so it is written once here; each store's claim query selects exactly
    the rows counted in ``due`` (the store tests check both agree).
    """
    seen = Overview()
    for status, next_at, via, held in rows:
        if retries_only and status not in PENDING:
            continue  # not retrying: nobody new, nothing sent or refused
        if status is None:
            seen.skipped_no_updates += 1  # not queued: nothing in the issue for their targets
        elif transport == "outbox" and via != "outbox" and (status in PENDING or status == "skipped"):
            if status in PENDING:
                seen.other_transport += 1  # owed by a real send: a rehearsal never takes it over
        elif status == "sent":
            seen.already_sent += 1
        elif status == "permanent":
            seen.permanent_before += 1
        elif status == "temporary" and next_at and next_at > due_until:
            seen.waiting += 1
        elif status == "claimed" and held:
            seen.other_sender += 1
        else:
            seen.due += 1
    return seen


class Pacer(Protocol):
    """Spaces messages out to ``[smtp] rate``: :meth:`wait` returns when the next one may go."""

    def wait(self) -> None: ...


class SendLog(Protocol):
    """Every read and write of the send log; each method is one transaction.

    ``exclusive`` says whether the store admits one sender at a time (SQLite) or many
    (PostgreSQL); ``batch`` is how many rows a sender claims at once.
    """

    exclusive: bool
    batch: int

    def queue(
        self, issue: Issue, subscribers: list[Subscriber], config: NewsletterConfig, transport: str, at: str
    ) -> tuple[int, int]:
        """Start (or extend) the issue's send: a ``queued`` row for every active reader owed a copy.

        For real mail, a reader whose copy only went to the outbox (a rehearsal) is owed one too:
        the row is queued for this transport. Returns (rows added, outbox rows queued for real).
        """
        ...

    def skip_inactive(self, issue: int, at: str) -> int:
        """Rows owed to readers who are no longer active: ``skipped`` (never mail a former subscriber)."""
        ...

    def overview(self, issue: int, transport: str, due_until: str, retries_only: bool) -> Overview: ...

    def claim(
        self,
        issue: int,
        transport: str,
        due_until: str,
        retries_only: bool,
        at: str,
        *,
        after: int = 0,
        limit: int = 1,
        again: bool = False,
    ) -> list[Claim]:
        """Claim up to ``limit`` due rows of active readers (subscriber id above ``after``).

        ``again``: a later pass over the issue, which leaves ``skipped`` rows alone (this run has
        just skipped them) and takes over only what is queued, due, or claimed by a dead sender.
        """
        ...

    def running(self) -> AbstractContextManager[object]:
        """Held for a whole ``send`` run: SQLite's one-sender lock (:class:`SendBusy` when taken);
        on PostgreSQL the heartbeat that renews this sender's lease while it lives."""
        ...

    def set_message_id(self, issue: int, subscriber_id: int, msgid: str) -> None:
        """The message goes out under ``msgid`` (a changed sender domain): the log says so."""
        ...

    def release(self, issue: int, claims: Sequence[Claim]) -> None:
        """Put claimed rows back exactly as they were: nothing of them was handed over."""
        ...

    def attempts(self, issue: int, subscriber_id: int) -> tuple[int, int]:
        """(attempts, ambiguous) of the row so far."""
        ...

    def mark_sent(self, issue: int, subscriber_id: int, at: str) -> None: ...

    def mark_temporary(
        self, issue: int, subscriber_id: int, attempts: int, ambiguous: int, retry_at: str, error: str
    ) -> None: ...

    def mark_permanent(
        self,
        issue: int,
        subscriber_id: int,
        error: str,
        attempts: int | None = None,
        ambiguous: int | None = None,
    ) -> None:
        """Refused for good; ``attempts`` None counts this attempt on top of the earlier ones."""
        ...

    def mark_skipped(self, issue: int, subscriber_id: int, why: str) -> None: ...

    def held_elsewhere(self, issue: int) -> int:
        """Rows of the issue claimed by another sender whose lease is still running."""
        ...

    def issues_with_work(self, now: datetime, transport: str | None) -> list[int]:
        """Issues whose log holds queued or claimed rows, or due retries (of ``transport``), oldest first."""
        ...

    def pending(self, transport: str) -> int:
        """Readers still owed a copy of any issue by ``transport``."""
        ...

    def totals(self, issue: int) -> dict[str, int]:
        """Readers per status for the issue."""
        ...

    def rows(self, issue: int) -> list[dict]:
        """The issue's log joined with the readers' addresses, in subscriber order (reports, tests)."""
        ...

    def pacer(self, rate: float) -> Pacer:
        """The ``[smtp] rate`` pacing for this backend: per process, or shared by every sender."""
        ...


__all__ = [
    "COLUMNS",
    "MAX_ATTEMPTS",
    "PENDING",
    "STATUSES",
    "Claim",
    "Overview",
    "Pacer",
    "SendLog",
    "backoff",
    "overview_of",
]
