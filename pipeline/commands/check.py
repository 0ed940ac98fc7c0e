"""``check``: validate content and list what would be published.

Read and validate every update; print each problem as path:line and list what a build at --now would
publish. Writes nothing.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.commands._options import (
    add_config,
    add_content,
    add_now,
    content_failed,
    now_from,
    settings_from,
)
from pipeline.locale.cli import tr
from pipeline.reading.content import read_content
from pipeline.reading.dates import rfc3339
from pipeline.reading.model import ContentError

ORDER = 8


def arguments(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    add_content(parser)
    add_now(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = now_from(args, settings)
    try:
        content = read_content(args.content, settings, now)
    except ContentError as exc:
        raise content_failed(exc) from None
    for warning in content.warnings:
        print(warning, file=sys.stderr)
    for update in content.updates:
        targets = ",".join(update.targets) or "-"
        print(f"{rfc3339(update.date)}  {update.lang}  {targets:<16} {update.url}  ({update.source})")
    for when, source in content.scheduled:
        print(tr("{when}  scheduled  {path}", when=rfc3339(when), path=source))
    print(
        tr(
            "{published} published, {scheduled} scheduled, {drafts} drafts, {warnings} warnings",
            published=len(content.updates),
            scheduled=len(content.scheduled),
            drafts=content.drafts,
            warnings=len(content.warnings),
        )
    )
    return 0
