"""``send``: send a newsletter issue (default: the latest) to the subscribers.

Send an issue to every active subscriber who has not had it yet. The send log in the state database
makes a rerun after a crash continue where it stopped; temporary failures are retried by later runs,
permanent ones (5xx) are not. Every run first completes the sends that an earlier run left
unfinished (server down, kill, 4xx), oldest issue first. With SQLite only one send runs at a time;
with PostgreSQL any number share the work, each reader still getting one copy.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from pipeline.commands._options import CommandFailed, add_config, add_now, settings_from
from pipeline.config.site import LANGUAGES, SettingsError
from pipeline.delivery.message import DkimError
from pipeline.delivery.send_run import (
    EXIT_DEFERRED,
    EXIT_DELIVERED,
    EXIT_FAILED,
    SendError,
    send_run,
    stderr_notes,
)
from pipeline.delivery.tokens import SecretMissing
from pipeline.delivery.transports import TransportUnavailable, parse_rate, transport_names
from pipeline.outputs.newsletter.render import RenderError
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.stores.subscribers import SubscriberError

ORDER = 35

EXIT_CODES = f"""exit codes:
  {EXIT_DELIVERED}  every reader of the issues handled has the issue (or was refused in an earlier run)
  1  could not run: settings, secret, another send running, refused login or sender, no STARTTLS
  2  wrong command line
  {EXIT_DEFERRED}  some readers are still owed an issue (4xx, server down or unreachable); nothing is lost,
     the next send or send --retries-only (the shipped retries job) continues
  {EXIT_FAILED}  this run recorded readers as refused for good (5xx) or lost (no reply twice); see the
     failed: lines and the send log
"""
# argparse options besides help and description (from the docstring)
PARSER = {"epilog": EXIT_CODES, "formatter_class": argparse.RawDescriptionHelpFormatter}


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "issue", nargs="?", type=int, metavar="ISSUE", help="issue number (default: the latest)"
    )
    parser.add_argument(
        "--transport", choices=transport_names(), help="default: [newsletter] transport (outbox)"
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        metavar="N/s",
        help="at most N messages per second (e.g. 20/s, 600/min; 0 = no limit)",
    )
    parser.add_argument(
        "--retries-only",
        action="store_true",
        help="send only the retries that are due (of ISSUE, else of every issue), to nobody new",
    )
    parser.add_argument("--to", metavar="ADDRESS", help="send one test message to ADDRESS (not recorded)")
    parser.add_argument("--lang", choices=LANGUAGES, help="language of the --to test message")
    add_config(parser)
    add_now(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def _rate(text: str) -> float | None:
    """``--rate`` is read with the command line: a bad rate is a usage error (exit 2), like a bad number."""
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = None
    if args.now:
        try:
            now = parse_datetime(args.now, settings.tz)
        except DateError as exc:
            raise CommandFailed(f"--now: {exc}") from None
    if args.retries_only and args.to:
        raise CommandFailed("--retries-only and --to do not go together")
    try:
        report = send_run(
            settings,
            issue_number=args.issue,
            transport_name=args.transport,
            rate=args.rate,
            now=now,
            to=args.to,
            lang=args.lang,
            progress=sys.stderr,
            notes=None if args.quiet else stderr_notes,
            retries_only=args.retries_only,
        )
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    except (SecretMissing, SendError, TransportUnavailable, DkimError, RenderError, SubscriberError) as exc:
        raise CommandFailed(str(exc)) from None
    except sqlite3.Error as exc:  # e.g. a full disk: the claimed row is resent by the next run
        raise CommandFailed(f"the state database failed: {exc}; run send again to continue") from None
    except OSError as exc:  # the state folder or its lock file cannot be made or written
        where = f"{exc.filename}: " if exc.filename else ""
        raise CommandFailed(f"{where}{exc.strerror or exc}; nothing sent") from None
    for summary in report.summaries:
        for error in summary.errors:
            print(f"failed: {error}", file=sys.stderr)
        for reason in summary.why():
            print(f"issue {summary.issue}: {reason}", file=sys.stderr)
    if report.stopped:
        print(f"stopped: {report.stopped}", file=sys.stderr)
    if not args.quiet:
        for line in report.lines():
            if not line.startswith("stopped: "):
                print(line)
    return report.exit_code
