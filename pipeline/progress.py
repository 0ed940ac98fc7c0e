"""The one progress display for builds, imports and sends: rich bars on a terminal, nothing elsewhere.

Builds of a large archive, imports of a long feed and sends to a large list take long enough that
a person at a terminal wants to see them move; a scheduled job, a pipe or a log file must not fill
up with bars. So a bar draws only when its stream is a TTY (and ``GOAL17_PROGRESS=0`` is not set).

Every bar open at the same time on one stream is a line of the same :mod:`rich` live display (two
live displays on one terminal would overwrite each other): the build's "rendering" and "writing"
bars share it, and it erases itself when the last bar closes, so the command's summary line reads
cleanly. Rich draws only when asked (no refresh thread), at most ten times a second, so a failure
to write — the terminal closed, stderr a closed pipe — is caught here, silences the display for
the rest of the run, and never reaches the user as a traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

T = TypeVar("T")
WIDTH = 28
INTERVAL = 0.1  # seconds between redraws


def _console(stream: TextIO) -> Console:
    """rich's console, except that a closed pipe is an ordinary ``OSError`` for :class:`_Display`
    to catch: rich's own answer points the process's stdout at /dev/null and exits the program,
    which in the middle of a send would stop it between two messages.

    rich is imported here, when a bar is first drawn: a silent bar (``--quiet``, no terminal)
    must not cost its import, 28 ms of a one-update edit build run by cron or a deploy script.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more is written, whatever asks
            raise BrokenPipeError(errno.EPIPE, "the terminal was closed")

    return _Console(file=stream, force_terminal=True, highlight=False)


class _Display:
    """One rich live display on one stream, shared by the bars open on it."""

    def __init__(self, stream: TextIO):
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn
        from rich.progress import Progress as RichProgress

        self.stream = stream
        self.bars = 0
        self.broken = False
        self.last = 0.0
        console = _console(stream)
        self.rich = RichProgress(
            TextColumn("{task.description} [", markup=False),
            BarColumn(bar_width=WIDTH),
            TextColumn("] {task.completed:.0f}/{task.total:.0f}", markup=False),
            TaskProgressColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._safely(self.rich.start)

    def add(self, label: str, total: int) -> TaskID | None:
        self.bars += 1
        return self._safely(lambda: self.rich.add_task(label, total=total, visible=total > 0))

    def update(self, task: TaskID | None, done: int, total: int, *, force: bool) -> None:
        if task is None or self.broken:
            return
        now = time.monotonic()
        if not force and now - self.last < INTERVAL:
            return
        self.last = now

        def draw() -> None:
            self.rich.update(task, completed=done, total=total, visible=total > 0)
            self.rich.refresh()

        self._safely(draw)

    def remove(self, task: TaskID | None) -> None:
        """Drop one bar; the last one out erases the display."""
        self.bars -= 1
        if task is not None:
            self._safely(lambda: self.rich.remove_task(task))
        if self.bars <= 0:
            self._safely(self.rich.stop)
            _DISPLAYS.pop(id(self.stream), None)

    def _safely(self, action: Callable[[], T]) -> T | None:
        """Run a rich call; a terminal that cannot be written any more silences the display."""
        if self.broken:
            return None
        try:
            return action()
        except (OSError, ValueError):
            self.broken = True
            return None


_DISPLAYS: dict[int, _Display] = {}


class Progress:
    """``with Progress("sending", total) as bar: bar.advance(n)`` — silent unless on a TTY.

    An instance is also a ``progress(done, total)`` callback, the form the render cache, the
    publisher and the importer call. ``enabled`` forces the choice (``False`` for ``--quiet``);
    ``None`` asks whether ``stream`` (default: stderr) is a terminal.
    """

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = _is_tty(self.stream) and os.environ.get("GOAL17_PROGRESS", "1") != "0"
        self.enabled = enabled
        self._display: _Display | None = None
        self._task: TaskID | None = None
        if enabled:
            display = _DISPLAYS.get(id(self.stream))
            if display is None:
                display = _DISPLAYS[id(self.stream)] = _Display(self.stream)
            self._display = display
            self._task = display.add(label, self.total)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, done: int, total: int) -> None:
        """Progress-callback form: ``done`` of ``total`` so far (totals may be learnt late)."""
        self.total = total
        self.advance(done - self.done)

    def advance(self, count: int = 1) -> None:
        """``count`` more done; redraws at most every :data:`INTERVAL` seconds, and at the end."""
        self.done += count
        if self._display is not None:
            self._display.update(self._task, self.done, self.total, force=self.done >= self.total)

    def close(self) -> None:
        """Take this bar off the display (erasing the display with the last bar); idempotent."""
        display, self._display = self._display, None
        if display is not None:
            display.remove(self._task)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
