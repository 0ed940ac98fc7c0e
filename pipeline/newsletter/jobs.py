"""Scheduler jobs: the same functions the ``newsletter`` and ``send`` commands run.

Each takes the site settings and the options of its table in ``schedule.toml`` and returns a
one-line summary; failures raise (the scheduler records them).

- ``newsletter_job`` options: ``content`` (default "content"), ``out`` ("outputs"), ``force`` (false),
  ``now`` (ISO time, for tests; default: the clock).
- ``send_job`` options: ``issue`` (default: the latest), ``transport`` ("outbox" or "smtp"; default
  from ``[newsletter] transport``), ``rate`` (messages per second; default from ``[smtp] rate``),
  ``retries_only`` (false; true: only the due retries of every issue, to nobody new).
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
    """Send an issue (default: the latest) to every active subscriber who has not had it yet.

    With ``retries_only``: only the retries that are due, of every issue (or of ``issue``), to
    nobody new. A weekly send alone would retry a greylisted (4xx) reader a week later, and not at
    all once a newer issue is the latest; a frequent retries job keeps the backoff's promise.
    """
    from pipeline.newsletter.delivery import SendBusy, issues_with_retries_due, send_issue

    now = _now(settings, options)
    common = {"transport_name": options.get("transport"), "rate": options.get("rate"), "now": now}
    if not options.get("retries_only"):
        return send_issue(settings, issue_number=options.get("issue"), **common).line()
    issue = options.get("issue")
    numbers = [issue] if issue is not None else issues_with_retries_due(settings, now)
    if not numbers:
        return "no retries due"
    lines = []
    for number in numbers:
        try:
            lines.append(send_issue(settings, issue_number=number, retries_only=True, **common).line())
        except SendBusy:
            lines.append("another send is running; the rest waits for the next run")
            break
    return "; ".join(lines)
