"""``ping``: notify the WebSub hub of the feeds that changed.

POST hub.mode=publish with each feed URL that builds changed since the last successful ping
(recorded by 'build' when websub_hub is set). URLs the hub did not accept stay pending for the next
ping.
"""

from __future__ import annotations

import argparse

from pipeline.commands._options import CommandFailed, add_config, add_out, settings_from
from pipeline.publishing import websub

ORDER = 20


def arguments(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    parser.add_argument("--hub", metavar="URL", help="hub to notify (default: websub_hub from the settings)")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=websub.DEFAULT_TIMEOUT,
        help=f"give up on an unanswered request after this long (default: {websub.DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="notify every feed found in the output folder, not only the pending ones",
    )
    add_out(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.timeout <= 0:
        raise CommandFailed(f"--timeout must be positive, got {args.timeout:g}")
    try:
        urls = websub.all_feed_urls(args.out, settings) if args.all else None
        result = websub.ping(settings, hub=args.hub, urls=urls, timeout=args.timeout)
    except websub.PingError as exc:
        left = websub.pending(settings)
        details = [f"{len(left)} feed URL(s) still pending; run 'ping' again later"] if left else []
        raise CommandFailed(str(exc), details=details) from None
    if not args.quiet:
        print(result.summary())
        for url in result.pinged:
            print(f"  {url}")
    return 0
