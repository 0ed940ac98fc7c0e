"""What every backend's stores promise: one ``typing.Protocol`` per store.

Callers type against these, never against a backend's class, so the SQLite and PostgreSQL
implementations (``pipeline/stores/sqlite/``, ``pipeline/stores/postgres/``) stay swappable and
the shared tests run one body of assertions against both. Each store's owner keeps its own block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.delivery.issues import Issue
    from pipeline.reading.content import Update
    from pipeline.schedule.history import RunRow
    from pipeline.stores.subscribers import ConsentRecord, ImportReport, Subscriber


# -- subscribers (stores) ---------------------------------------------------------------------


class SubscriberStore(Protocol):
    """The subscriber list, its consent log and the suppression list of erased addresses.

    Every change is one transaction: a process killed mid-change leaves the old or the new state.
    Two processes adding the same address at once give one subscriber.
    """

    def get(self, uid: str) -> Subscriber | None: ...

    def by_id(self, subscriber_id: int) -> Subscriber | None: ...

    def find(self, address: str) -> Subscriber | None: ...

    def list(self, status: str | None = None) -> Iterator[Subscriber]: ...

    def active(self) -> list[Subscriber]: ...

    def counts(self) -> dict[str, int]: ...

    def consent_records(self, uid: str) -> list[ConsentRecord]: ...

    def export_record(self, uid: str) -> dict: ...

    def is_suppressed(self, address: str) -> bool: ...

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
    ) -> tuple[Subscriber, bool]: ...

    def confirm(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber: ...

    def unsubscribe(
        self, uid: str, *, now: datetime, source: str = "form", page: str | None = None
    ) -> Subscriber: ...

    def set_preferences(
        self,
        uid: str,
        *,
        now: datetime,
        lang: str | None = None,
        targets: Sequence[str] | str | None = None,
        source: str = "form",
        page: str | None = None,
    ) -> Subscriber: ...

    def erase(self, uid: str, *, now: datetime) -> None: ...

    def import_csv(
        self,
        text: str,
        *,
        now: datetime,
        status: str = "active",
        source: str = "import",
        page: str | None = None,
    ) -> ImportReport: ...

    def export_csv(self) -> str: ...


# -- issues (stores) --------------------------------------------------------------------------


class IssueStore(Protocol):
    """Numbered newsletter issues and which update went into which (each update into one issue)."""

    def get(self, number: int) -> Issue | None: ...

    def latest(self) -> Issue | None: ...

    def first(self) -> Issue | None: ...

    def all(self) -> list[Issue]: ...

    def plan(
        self,
        updates: Sequence[Update],
        now: datetime,
        *,
        since: datetime | None = None,
        first_issue_days: int = 30,
    ) -> Issue: ...

    def create(
        self,
        updates: Sequence[Update],
        now: datetime,
        *,
        since: datetime | None = None,
        first_issue_days: int = 30,
        force: bool = False,
        check: Callable[[Issue], None] | None = None,
    ) -> Issue | None: ...


# -- WebSub pending list (stores) -------------------------------------------------------------


class WebSubPendingStore(Protocol):
    """Feed URLs a build changed whose hub ping is still owed (kept until a ping succeeds)."""

    def add(self, urls: Iterable[str]) -> None:
        """Remember ``urls``; never fails a build over a damaged list (it starts afresh)."""
        ...

    def pending(self) -> list[str]:
        """Every URL still owed a ping, sorted."""
        ...

    def remove(self, urls: Iterable[str]) -> None:
        """Forget ``urls`` (the hub accepted them)."""
        ...


# -- run history (pg-ops) ---------------------------------------------------------------------
class RunHistory(Protocol):
    """The scheduler's run history and each job's last fire time (:mod:`pipeline.schedule.history`).

    Safe to use from several threads and processes; with PostgreSQL it is shared by every scheduler
    replica, so the last fire times it keeps are what a standby plans its catch-up from.
    """

    def start(self, job: str, kind: str, trigger: str, scheduled_for: datetime | None = None) -> int: ...

    def finish(
        self,
        run_id: int,
        outcome: str,
        started: datetime,
        finished: datetime,
        summary: str | None = None,
        error: str | None = None,
        last_fire: tuple[str, datetime] | None = None,
    ) -> None:
        """Record the outcome; with ``last_fire`` (trigger, fire time) also :meth:`set_last_fire`,
        in the same transaction."""
        ...

    def set_scheduled_for(self, run_id: int, scheduled_for: datetime) -> None: ...

    def mark_interrupted(self, run_id: int, summary: str) -> None: ...

    def record_skip(
        self,
        job: str,
        kind: str,
        outcome: str,
        scheduled_for: datetime,
        summary: str,
        trigger: str = "schedule",
    ) -> None: ...

    def record_warning(self, job: str, kind: str, at: datetime, summary: str) -> None: ...

    def clamp_last_fire(self, job: str, now: datetime) -> None: ...

    def close_abandoned(self) -> int: ...

    def last_fire(self, job: str) -> tuple[str, datetime] | None: ...

    def set_last_fire(self, job: str, trigger: str, fire_time: datetime) -> None: ...

    def runs(self, job: str | None = None, limit: int = 100) -> list[RunRow]: ...


class SchedulerLock(Protocol):
    """Who may fire jobs: a flock on one machine, a PostgreSQL advisory lock among replicas."""

    @property
    def lost(self) -> str | None:
        """Why the lock was lost while held (the service must stop at once), else None."""
        ...

    def describe(self) -> str: ...

    def acquire(self, stopping: Callable[[], bool]) -> bool:
        """Hold the lock (True), or give up because ``stopping()`` became true (False)."""
        ...

    def release(self) -> None: ...


# -- end run history (pg-ops) -----------------------------------------------------------------


# -- web rate limits (pg-ops) -----------------------------------------------------------------
class RateLimits(Protocol):
    """The subscription service's limits: sign-up requests per client, confirmation mails per address.

    On one machine the per-client count may live in memory; with several instances both are
    shared, so a client cannot get N times the limit by reaching N instances.
    """

    def client_hit(self, client: str) -> int | None:
        """Count one request of ``client``: None if allowed, else seconds until it may try again."""
        ...

    def take_mail(self, address: str, now: datetime) -> bool:
        """Count one mail to ``address`` if under ``[web] per_address_per_day`` (else False)."""
        ...

    def close(self) -> None: ...


# -- end web rate limits (pg-ops) -------------------------------------------------------------


__all__ = [
    "IssueStore",
    "RateLimits",
    "RunHistory",
    "SchedulerLock",
    "SubscriberStore",
    "WebSubPendingStore",
]


# -- send log (pg-send) -----------------------------------------------------------------------
# ``SendLog`` is defined next to the rules it speaks of (statuses, backoff, claims, pacing) in
# ``pipeline.delivery.send_log``; it is named here too so every store's interface is in one place.
# Implementations: stores/sqlite/send_log.py (one sender), stores/postgres/send_log.py (many).

from pipeline.delivery.send_log import Pacer, SendLog  # noqa: E402

__all__ += ["Pacer", "SendLog"]
