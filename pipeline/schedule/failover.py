"""One active scheduler among replicas: a PostgreSQL session-level advisory lock, and standbys.

With PostgreSQL, several ``python -m pipeline schedule`` processes may run, on one machine or
several. The one holding ``pg_try_advisory_lock(LOCK_KEY)`` on its own dedicated connection (never
a pooled one: the lock belongs to the session) is *active* and fires jobs; the others are
*standbys* that try again every few seconds. Why an advisory lock and not a lease row: PostgreSQL
drops it by itself the moment the session ends, however it ends (SIGKILL, machine lost, network
cut), so there is no expiry to tune and no clock to trust, and the server — one proven engine —
decides who is active.

How soon a standby takes over is bounded by ``[scheduler] failover`` (default 30 s):

- a process that dies on a live machine closes its socket: the server ends the session and
  frees the lock at once; a standby sees it at its next try (every ``failover / 3``, at most 5 s);
- a machine or network that vanishes sends nothing: the session is ended by the server's TCP
  keepalive, which this connection sets to notice a silent peer within about ``2/3 · failover``;
- the active scheduler checks its own session every few seconds. A lost connection is a lost
  lock (a standby may already be active): :attr:`AdvisoryLock.lost` says why, and the service
  stops its running jobs at once and exits, for its supervisor to restart it as a standby.

The lock is per database, so a test database, a staging and a production database on one server
never block each other. Which fire times run after a takeover is not decided here: the run
history in the same database holds each job's last fire time, and the new active scheduler plans
from it with the catch-up rules of ``schedule.toml`` (:mod:`pipeline.schedule.catchup`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from pipeline.config.state import redact

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("pipeline.schedule")

LOCK_KEY = 0x676F616C3137  # "goal17" in ASCII: the scheduler's advisory lock in this database
APPLICATION = "goal17-scheduler"


class AdvisoryLock:
    """The PostgreSQL :class:`~pipeline.stores.protocols.SchedulerLock`; see the module docstring."""

    def __init__(self, url: str, failover: timedelta):
        self.url = url
        self.failover = failover.total_seconds()
        self.retry = max(0.5, min(5.0, self.failover / 3))
        self.name = f"{APPLICATION} {socket.gethostname()} pid {os.getpid()}"
        self._conn: psycopg.Connection | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def lost(self) -> str | None:
        """Why the lock was lost (the session ended), or None while it is held."""
        return self._lost

    def describe(self) -> str:
        return f"advisory lock {LOCK_KEY} on {redact(self.url)}"

    def acquire(self, stopping: Callable[[], bool]) -> bool:
        """Wait as a standby until this process holds the lock (True) or ``stopping()`` (False)."""
        announced = outage = None
        while not stopping():
            try:
                if self._try():
                    log.info("active: this scheduler holds the %s", self.describe())
                    self._watchdog = threading.Thread(target=self._watch, name="scheduler-lock", daemon=True)
                    self._watchdog.start()
                    return True
                holder = self._holder()
                if holder != announced:
                    log.info(
                        "standby: another scheduler is active (%s); this one takes over within %.0f s of it "
                        "stopping",
                        holder,
                        self.failover,
                    )
                    announced, outage = holder, None
            except Exception as exc:  # psycopg.Error and socket errors: the database is unreachable
                self._close()
                reason = _one_line(exc)
                if reason != outage:
                    log.warning(
                        "standby: cannot reach the database %s (%s); retrying", redact(self.url), reason
                    )
                    outage = reason
            deadline = time.monotonic() + self.retry
            while time.monotonic() < deadline and not stopping():
                time.sleep(0.1)
        return False

    def release(self) -> None:
        """Give the lock up (closing the session frees it); a standby takes over at its next try."""
        self._stop.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=self.retry + 1)
        self._close()

    # -- the session ---------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        import psycopg

        seconds = max(1, int(self.failover))
        conn = psycopg.connect(
            self.url,
            autocommit=True,
            application_name=self.name,
            connect_timeout=max(2, seconds // 3),
            # our side: a silent server is noticed (an unacknowledged send fails) within failover/2
            keepalives=1,
            keepalives_idle=max(1, seconds // 3),
            keepalives_interval=max(1, seconds // 9),
            keepalives_count=3,
            tcp_user_timeout=max(1000, seconds * 500),
        )
        # the server's side: a vanished client's session (and so the lock) ends within ~2/3 failover
        conn.execute(f"SET tcp_keepalives_idle = {max(1, seconds // 3)}")
        conn.execute(f"SET tcp_keepalives_interval = {max(1, seconds // 9)}")
        conn.execute("SET tcp_keepalives_count = 3")
        return conn

    def _try(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        (held,) = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        return bool(held)

    def _holder(self) -> str:
        assert self._conn is not None
        row = self._conn.execute(
            "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND (l.classid::bigint << 32 | l.objid::bigint) = %s",
            (LOCK_KEY,),
        ).fetchone()
        if row is None:
            return "a holder that is just stopping"
        return row[0] + (f" from {row[1]}" if row[1] else "")

    def _watch(self) -> None:
        """Check the session every ``retry`` seconds; any failure means the lock may be gone."""
        while not self._stop.wait(self.retry):
            try:
                assert self._conn is not None
                (held,) = self._conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
                ).fetchone()
                if not held:
                    self._lost = "the database no longer shows this scheduler's lock"
                    return
            except Exception as exc:
                if not self._stop.is_set():
                    self._lost = f"the connection to the database was lost ({_one_line(exc)})"
                return

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["APPLICATION", "LOCK_KEY", "AdvisoryLock"]
