"""``send``: deliver a newsletter issue to every active subscriber, exactly once each."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from pipeline.commands._options import CommandFailed, add_config, add_now, settings_from
from pipeline.dates import DateError, parse_datetime
from pipeline.newsletter.delivery import SendError, issues_with_retries_due, send_issue, stderr_notes
from pipeline.newsletter.message import DkimError
from pipeline.newsletter.render import RenderError
from pipeline.newsletter.subscribers import SubscriberError
from pipeline.newsletter.tokens import SecretMissing
from pipeline.newsletter.transports import TransportUnavailable, parse_rate
from pipeline.settings import LANGUAGES, SettingsError

ORDER = 35


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send a newsletter issue (default: the latest) to the subscribers",
        description=(
            "Send an issue to every active subscriber who has not had it yet. The send log in the state "
            "database makes a rerun after a crash continue where it stopped; temporary failures are retried by "
            "later runs, permanent ones (5xx) are not. Only one send runs at a time."
        ),
    )
    parser.add_argument(
        "issue", nargs="?", type=int, metavar="ISSUE", help="issue number (default: the latest)"
    )
    parser.add_argument(
        "--transport", choices=("outbox", "smtp"), help="default: [newsletter] transport (outbox)"
    )
    parser.add_argument(
        "--rate", metavar="N/s", help="at most N messages per second (e.g. 20/s, 600/min; 0 = no limit)"
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = None
    if args.now:
        try:
            now = parse_datetime(args.now, settings.tz)
        except DateError as exc:
            raise CommandFailed(f"--now: {exc}") from None
    try:
        rate = parse_rate(args.rate)
    except ValueError as exc:
        raise CommandFailed(f"--rate: {exc}") from None
    if args.retries_only and args.to:
        raise CommandFailed("--retries-only and --to do not go together")
    try:
        if args.retries_only and args.issue is None:
            numbers = issues_with_retries_due(settings, now or datetime.now(settings.tz))
            if not numbers and not args.quiet:
                print("no retries due")
        else:
            numbers = [args.issue]
        for number in numbers:
            summary = send_issue(
                settings,
                issue_number=number,
                transport_name=args.transport,
                rate=rate,
                now=now,
                to=args.to,
                lang=args.lang,
                progress=sys.stderr,
                notes=None if args.quiet else stderr_notes,
                retries_only=args.retries_only,
            )
            for error in summary.errors:
                print(f"failed: {error}", file=sys.stderr)
            if not args.quiet:
                print(summary.line())
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    except (SecretMissing, SendError, TransportUnavailable, DkimError, RenderError, SubscriberError) as exc:
        raise CommandFailed(str(exc)) from None
    return 0
