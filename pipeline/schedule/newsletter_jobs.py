"""Scheduler jobs: the same functions the ``newsletter`` and ``send`` commands run.

Each takes the site settings and the options of its table in ``schedule.toml`` and returns a
one-line summary; failures raise (the scheduler records them). A send that leaves readers owed
an issue raises ``JobDeferred`` (recorded as ``deferred``, the same as the command's exit 3).

- ``newsletter_job`` options: ``content`` (default "content"), ``out`` ("outputs"), ``force`` (false),
  ``now`` (ISO time, for tests; default: the clock).
- ``send_job`` options: ``issue`` (default: the latest), ``transport`` (a name in
  :data:`pipeline.delivery.transports.KINDS`; default from ``[newsletter] transport``), ``rate``
  (messages per second; default the transport's own, e.g. ``[smtp] rate``),
  ``retries_only`` (false; true: only the due retries of every issue, to nobody new).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.config.site import Settings
from pipeline.publishing.issue_build import build_issue
from pipeline.reading.dates import parse_datetime


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


class SendFailedForGood(Exception):
    """The run recorded readers as refused for good or lost: the scheduler records a failure."""


def send_job(settings: Settings, options: dict[str, Any]) -> str:
    """One ``send`` run: complete every unfinished send (oldest issue first), then (unless
    ``retries_only``) send the issue (default: the latest) to every active reader who has not had it.

    Returns the summary when every reader is served; raises
    :class:`~pipeline.schedule.registry.JobDeferred` (recorded as ``deferred``) when readers are
    still owed a copy — a later run continues — and :class:`SendFailedForGood` (recorded as
    ``failed``) when this run refused or lost readers for good. A weekly send alone would retry a
    greylisted (4xx) reader a week later; the frequent retries job keeps the backoff's promise.
    """
    from pipeline.delivery.send_run import EXIT_DEFERRED, EXIT_FAILED, SendBusy, send_run
    from pipeline.schedule.registry import JobDeferred

    retries_only = bool(options.get("retries_only"))
    try:
        report = send_run(
            settings,
            issue_number=options.get("issue"),
            transport_name=options.get("transport"),
            rate=options.get("rate"),
            now=_now(settings, options),
            retries_only=retries_only,
        )
    except SendBusy:
        if not retries_only:
            raise
        raise JobDeferred("another send is running; the rest waits for the next run") from None
    summary = "; ".join(report.lines())
    reasons = [f"issue {s.issue}: {reason}" for s in report.summaries for reason in s.why()]
    if reasons:
        summary += " (" + "; ".join(reasons) + ")"
    if report.exit_code == EXIT_FAILED:
        raise SendFailedForGood(summary)
    if report.exit_code == EXIT_DEFERRED:
        raise JobDeferred(summary)
    return summary
