"""``newsletter``: build the next newsletter issue from new updates (or: newsletter preview).

Build the next issue from every published update that is in no issue yet (dated after the start of
the first issue's window, which covers the last 30 days; an update published late still gets in),
record it in the state database and publish the archive under OUT/newsletters/. 'newsletter preview'
renders the next issue (or --issue N) to a file without recording anything.
"""

from __future__ import annotations

import argparse
import sys

import jinja2

from pipeline.commands._options import (
    CommandFailed,
    add_config,
    add_content,
    add_now,
    add_out,
    content_failed,
    now_from,
    settings_from,
)
from pipeline.config.site import LANGUAGES, SettingsError
from pipeline.delivery.issues import IssueError
from pipeline.outputs.newsletter.render import RenderError
from pipeline.publishing.issue_build import IssueTooLarge, build_issue
from pipeline.publishing.issue_preview import NoSuchIssue, preview_issue
from pipeline.publishing.output_folder import PublishError
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.reading.model import ContentError

ORDER = 30


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", choices=("build", "preview"), default="build", help="default: build"
    )
    add_config(parser)
    add_content(parser)
    add_out(parser)
    add_now(parser)
    parser.add_argument(
        "--since",
        metavar="ISO-TIME",
        help="take updates dated after this, even before the first issue's window (default: that window's start)",
    )
    parser.add_argument("--force", action="store_true", help="build an issue even when there is nothing new")
    parser.add_argument("--issue", type=int, metavar="N", help="preview: this existing issue")
    parser.add_argument("--lang", choices=LANGUAGES, help="preview: language (default: the site's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = now_from(args, settings)
    since = None
    if args.since:
        try:
            since = parse_datetime(args.since, settings.tz)
        except DateError as exc:
            raise CommandFailed(f"--since: {exc}") from None
    try:
        if args.action == "preview":
            return _preview(args, settings, now, since)
        return _build(args, settings, now, since)
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    except ContentError as exc:
        raise content_failed(exc, args.out) from None
    except (RenderError, IssueTooLarge, IssueError, PublishError) as exc:
        raise CommandFailed(f"{exc}; no issue recorded, {args.out} was not changed") from None
    except jinja2.TemplateError as exc:
        raise CommandFailed(f"template error: {exc}; no issue recorded") from None


def _build(args, settings, now, since) -> int:
    outcome = build_issue(args.content, args.out, settings, now, since=since, force=args.force)
    for warning in outcome.warnings:
        print(warning, file=sys.stderr)
    if args.quiet:
        return 0
    issue = outcome.issue
    if issue is None:
        print(
            f"no new updates since the previous issue; no issue built ({args.out}/newsletters/ is up to date)"
        )
        return 0
    sizes = ", ".join(f"{lang} {size / 1024:.1f} KB" for lang, size in outcome.sizes.items())
    start, end = issue.window_start.astimezone(settings.tz), issue.window_end.astimezone(settings.tz)
    print(
        f"built issue {issue.number} with {len(issue.items)} update(s) from "
        f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (HTML part: {sizes})"
    )
    print(
        f"web version: {args.out}/newsletters/{issue.number}/index.html; send it with: python -m pipeline send"
    )
    return 0


def _preview(args, settings, now, since) -> int:
    try:
        preview = preview_issue(args.content, settings, now, since=since, number=args.issue, lang=args.lang)
    except NoSuchIssue as exc:
        raise CommandFailed(str(exc)) from None
    for warning in preview.warnings:
        print(warning, file=sys.stderr)
    if not args.quiet:
        state = "existing" if preview.existing else "next (not recorded)"
        edition = preview.edition
        print(
            f"{state} issue {preview.issue.number}, {len(edition.items)} update(s), subject: {edition.subject}",
            file=sys.stderr,
        )
    print(preview.path.resolve())
    return 0
