"""A sliding-window rate limiter in memory, bounded in size, for sign-up requests per client.

Per-client limits only need to hold within one running service on one machine: a restart
forgetting them costs nothing (the per-address limit, which protects people's mailboxes, is kept
in the database). Used by :mod:`pipeline.stores.sqlite.rate_limits`; several instances share
their limits in PostgreSQL instead (:mod:`pipeline.stores.postgres.rate_limits`). Memory is bounded so a flood of distinct client addresses cannot
grow it without end: past ``max_keys`` the stalest keys are forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` hits per key within any ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Count one request for ``key``; False (and not counted) when it is over the limit."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
            self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (at least 1)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 1
            return max(1, int(hits[0] + self.window - now) + 1)
