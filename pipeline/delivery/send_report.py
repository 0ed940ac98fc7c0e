"""What a ``send`` run reports: per issue, the counts and reasons; for the run, the exit code.

The exit code is what a scheduler or a cron wrapper alerts on, so it is decided here, from the
run's outcomes and the send log after it — not from how the run happened to end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.delivery.send_log import PENDING

# Exit codes of ``send`` (documented in docs/newsletter.md and ``send --help``).
EXIT_DELIVERED = 0  # every reader of the issues handled has the issue (or was refused earlier)
EXIT_DEFERRED = 3  # some readers are still owed a copy; later runs (the retries job) continue
EXIT_FAILED = 4  # this run recorded a reader as refused for good or lost
# 1 (could not run: settings, secret, lock, refused login …) comes from the CLI's CommandFailed.


# The counts a summary line names only when they are not zero, in this order.
_NOTES = (
    ("permanent_before", "refused earlier"),
    ("skipped_no_updates", "with nothing for their targets"),
    ("resumed", "resumed from an interrupted run"),
    ("outbox_before", "had only been written to the outbox"),
    ("other_transport", "owed by a real send, left to it"),
    ("not_reached", "not reached before the run stopped"),
    ("unsubscribed", "unsubscribed before their turn"),
    ("other_sender", "being sent by another sender"),
)


@dataclass
class SendSummary:
    """What one run did with one issue, and where the issue stands afterwards."""

    issue: int
    transport: str
    sent: int = 0
    already_sent: int = 0
    skipped_no_updates: int = 0
    resumed: int = 0  # claimed by a run that died: sent again (may be the one duplicate)
    temporary: int = 0  # failed now, will be retried by a later run
    waiting: int = 0  # failed before, retry not due yet
    permanent: int = 0  # refused for good (or lost) in this run
    permanent_before: int = 0
    outbox_before: int = 0  # only written to the outbox before; queued for real mail by this run
    other_transport: int = 0  # an outbox run: owed by a real (SMTP) send, left to it
    not_reached: int = 0  # still queued when the run stopped (server down)
    unsubscribed: int = 0  # owed a copy, but no longer active when their turn came
    other_sender: int = 0  # held by another live sender when this run looked (PostgreSQL)
    errors: list[str] = field(default_factory=list)
    deferred_why: Counter[str] = field(default_factory=Counter)
    refused_why: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)  # status -> readers, after the run
    test_to: str | None = None

    def line(self) -> str:
        if self.test_to:
            return f"issue {self.issue}: sent a test message to {self.test_to} via {self.transport}"
        parts = [
            f"issue {self.issue} via {self.transport}: {self.sent} sent",
            f"{self.already_sent} skipped as already sent",
            f"{self.permanent + self.temporary} failed",
        ]
        if self.temporary or self.waiting:
            parts.append(f"{self.temporary + self.waiting} to retry later")
        parts += [f"{getattr(self, name)} {words}" for name, words in _NOTES if getattr(self, name)]
        line = ", ".join(parts)
        if self.totals:
            line += (
                f"; readers of issue {self.issue}: {self.delivered} delivered, {self.deferred} deferred for retry, "
                f"{self.refused} refused for good"
            )
        return line

    @property
    def delivered(self) -> int:
        return self.totals.get("sent", 0)

    @property
    def deferred(self) -> int:
        return sum(self.totals.get(status, 0) for status in PENDING)

    @property
    def refused(self) -> int:
        return self.totals.get("permanent", 0)

    def why(self) -> list[str]:
        """One line per distinct reason, most frequent first (the server's reply, no addresses)."""
        lines = [f"deferred: {n} × {reason}" for reason, n in self.deferred_why.most_common()]
        lines += [f"refused for good: {n} × {reason}" for reason, n in self.refused_why.most_common()]
        return lines


@dataclass
class SendReport:
    """A whole ``send`` run: one summary per issue it worked on, and whether it stopped early."""

    transport: str
    summaries: list[SendSummary] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped before the end (the server could not be reached)
    pending_after: int = 0  # readers still owed a copy of any issue (this transport) after the run

    @property
    def exit_code(self) -> int:
        if any(summary.permanent for summary in self.summaries):
            return EXIT_FAILED
        if self.stopped or self.pending_after:
            return EXIT_DEFERRED
        return EXIT_DELIVERED

    def lines(self) -> list[str]:
        lines = [summary.line() for summary in self.summaries]
        if not self.summaries and not self.stopped:
            lines.append("no retries due" if not self.pending_after else "nothing due now")
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        if self.pending_after:
            lines.append(
                f"{self.pending_after} reader(s) still owed an issue; the next send or send --retries-only continues"
            )
        return lines
