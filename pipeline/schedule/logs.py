"""The scheduler's log: one line per event on stdout, timestamps in the site's time zone.

Shared by ``schedule`` and ``run JOB``, so both print the same lines; journald keeps them, cron
mails them.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, tzinfo
from typing import Any

log = logging.getLogger("pipeline.schedule")


class _ZoneFormatter(logging.Formatter):
    """Timestamps in the site's time zone, whatever TZ the service happens to run with."""

    def __init__(self, zone: tzinfo | None):
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="seconds")


def configure_logging(zone: tzinfo | None = None, stream: Any = None) -> None:
    """One line per event on stdout (journald keeps it; cron mails it)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(_ZoneFormatter(zone))
    ours = logging.getLogger("pipeline.schedule")
    ours.handlers[:] = [handler]
    ours.setLevel(logging.INFO)
    ours.propagate = False
    theirs = logging.getLogger("apscheduler")
    theirs.handlers[:] = [handler]
    theirs.setLevel(logging.WARNING)
    theirs.propagate = False
    handler.addFilter(_drop_apscheduler_duplicates)


def _drop_apscheduler_duplicates(record: logging.LogRecord) -> bool:
    """APScheduler logs a failed job and a missed run too; ours already say it, with more detail."""
    if not record.name.startswith("apscheduler"):
        return True
    message = str(record.msg)
    return not (
        "raised an exception" in message or "was missed by" in message or "skipped: maximum" in message
    )


__all__ = ["configure_logging", "log"]
