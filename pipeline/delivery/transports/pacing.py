"""Spacing messages evenly in time, so a relay's per-second limit is never exceeded.

Not a rate *limiter* in the web service's sense (:mod:`pipeline.web.ratelimit` counts requests
per client and refuses the excess); a send run never refuses a message, it waits its turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MessagePacer:
    """At most ``rate`` messages per second (0: no limit), evenly spaced: ``wait()`` before each."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def parse_rate(text: str | float | int | None) -> float | None:
    """``"50"``, ``"50/s"``, ``"600/min"``, ``"3600/h"`` → messages per second; ``0`` = unlimited."""
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = text.strip().lower()
        number, _, unit = raw.partition("/")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"not a rate: {text!r} (write e.g. 20/s or 600/min)") from None
        divisor = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}.get(unit.strip())
        if divisor is None:
            raise ValueError(f"unknown rate unit in {text!r} (use /s, /min or /h)")
        value /= divisor
    if value < 0:
        raise ValueError(f"a rate cannot be negative: {text!r}")
    return value
