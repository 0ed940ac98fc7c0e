"""A one-line progress bar on a terminal, and nothing at all anywhere else.

Builds of a large archive and sends to a large list take long enough that a person at a terminal
wants to see them move; a scheduled job, a pipe or a log file must not fill up with bars. So the
bar draws only when its stream is a TTY (and ``GOAL17_PROGRESS=0`` is not set), redraws at most
ten times a second, and erases itself when done so the command's summary line reads cleanly.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

WIDTH = 28
INTERVAL = 0.1  # seconds between redraws


class Progress:
    """``with Progress("sending", total) as bar: bar.advance(n)`` — silent unless on a TTY.

    An instance is also a ``progress(done, total)`` callback, the form the render cache calls.
    """

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = _is_tty(self.stream) and os.environ.get("GOAL17_PROGRESS", "1") != "0"
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, done: int, total: int) -> None:
        """Progress-callback form: ``done`` of ``total`` so far (totals may be learnt late)."""
        self.total = total
        self.advance(done - self.done)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= INTERVAL or self.done >= self.total:
            self._last = now
            self._draw()

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def line(self) -> str:
        """The text of the bar as it would be drawn now."""
        total = self.total or 1
        share = min(self.done / total, 1.0)
        filled = int(share * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total} {share:4.0%}"

    def _draw(self) -> None:
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()
        self._drawn = True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
