"""``new``: create a new update file (a draft with a fresh id).

Create CONTENT/<slug>.md with a freshly minted id, the current date and draft: true.
"""

from __future__ import annotations

import argparse

from pipeline.commands._options import (
    CommandFailed,
    add_config,
    add_content,
    add_now,
    now_from,
    settings_from,
)
from pipeline.reading.authoring import AuthoringError, create_update

ORDER = 5


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("title", help="the update's title")
    add_config(parser)
    add_content(parser)
    add_now(parser)
    parser.add_argument("--lang", choices=("sv", "en"), help="language (default: the site's)")
    parser.add_argument("--targets", default="", help="comma-separated goal-17 targets, e.g. 17.9,17.17")
    parser.add_argument("--slug", help="file name and URL slug (default: from the title)")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = now_from(args, settings)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    try:
        path = create_update(
            args.content, args.title, settings, now, lang=args.lang, targets=targets, slug=args.slug
        )
    except AuthoringError as exc:
        raise CommandFailed(str(exc)) from None
    print(path)
    return 0
