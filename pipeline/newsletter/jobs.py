"""Scheduler jobs: the same functions the ``newsletter`` and ``send`` commands run.

Each takes the site settings and the options of its table in ``schedule.toml`` and returns a
one-line summary; failures raise (the scheduler records them).

- ``newsletter_job`` options: ``content`` (default "content"), ``out`` ("outputs"), ``force`` (false),
  ``now`` (ISO time, for tests; default: the clock).
- ``send_job`` options: ``issue`` (default: the latest), ``transport`` ("outbox" or "smtp"; default
  from ``[newsletter] transport``), ``rate`` (messages per second; default from ``[smtp] rate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.dates import parse_datetime
from pipeline.newsletter.building import build_issue
from pipeline.settings import Settings


def _now(settings: Settings, options: dict[str, Any]) -> datetime:
    value = options.get("now")
    return parse_datetime(str(value), settings.tz) if value else datetime.now(settings.tz)


def newsletter_job(settings: Settings, options: dict[str, Any]) -> str:
    """Build the next issue if there are new updates; always refresh the archive.

    The summary does not name the kind: the scheduler's log line and a ``pipeline`` job do.
    """
    outcome = build_issue(
        options.get("content", "content"),
        options.get("out", "outputs"),
        settings,
        _now(settings, options),
        force=bool(options.get("force", False)),
    )
    warnings = f" ({'; '.join(outcome.warnings)})" if outcome.warnings else ""
    if outcome.issue is None:
        return "no new updates, no issue built"
    return f"built issue {outcome.issue.number} with {len(outcome.issue.items)} update(s){warnings}"


def send_job(settings: Settings, options: dict[str, Any]) -> str:
    """Send an issue (default: the latest) to every active subscriber who has not had it yet."""
    from pipeline.newsletter.delivery import send_issue

    summary = send_issue(
        settings,
        issue_number=options.get("issue"),
        transport_name=options.get("transport"),
        rate=options.get("rate"),
        now=_now(settings, options),
    )
    return summary.line()
