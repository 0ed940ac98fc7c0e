"""``newsletter``: build the next newsletter issue and its web archive; ``newsletter preview``."""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

import jinja2

from pipeline.caching.content_cache import read_cached
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
from pipeline.delivery.issues import IssueError, IssueStore
from pipeline.delivery.message import MessageTemplate
from pipeline.delivery.tokens import DEVELOPMENT_SECRET
from pipeline.outputs.newsletter.archive import EXAMPLE_UID
from pipeline.outputs.newsletter.render import SLOTS, RenderError, render_edition
from pipeline.publishing.issue_build import IssueTooLarge, build_issue, check_size
from pipeline.publishing.output_folder import PublishError
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.reading.model import ContentError
from pipeline.stores import state_paths

ORDER = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "newsletter",
        help="build the next newsletter issue from new updates (or: newsletter preview)",
        description=(
            "Build the next issue from every published update that is in no issue yet (dated after the start "
            "of the first issue's window, which covers the last 30 days; an update published late still gets "
            "in), record it in the state database and publish the archive under OUT/newsletters/. "
            "'newsletter preview' renders the next issue (or --issue N) to a file without recording anything."
        ),
    )
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
    parser.set_defaults(func=run)


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
    config = settings.newsletter
    with state_paths.connect(config) as conn:
        store = IssueStore(conn)
        if args.issue is not None:
            issue = store.get(args.issue)
            if issue is None:
                raise CommandFailed(f"there is no issue {args.issue}")
        else:
            content = read_cached(args.content, settings, now)
            issue = store.plan(content.updates, now, since=since, first_issue_days=config.first_issue_days)
    lang = args.lang or settings.language
    _sizes, warnings = check_size(issue, settings, config)
    for warning in warnings:
        print(warning, file=sys.stderr)
    edition = render_edition(issue, lang, settings, config)
    template = MessageTemplate(edition, settings, config, DEVELOPMENT_SECRET, now)
    unsubscribe_url, preferences_url = template.urls(EXAMPLE_UID)
    values = {
        "address": config.example_recipient,
        "unsubscribe": unsubscribe_url,
        "preferences": preferences_url,
    }
    page, text = edition.html, edition.text
    for name, marker in SLOTS.items():
        page = page.replace(marker, html.escape(values[name]))
        text = text.replace(marker, values[name])
    folder = config.state_dir / "preview"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"issue-{issue.number}.{lang}.html"
    target.write_text(page, encoding="utf-8")
    target.with_suffix(".txt").write_text(text, encoding="utf-8")
    if not args.quiet:
        state = "existing" if args.issue is not None else "next (not recorded)"
        print(
            f"{state} issue {issue.number}, {len(edition.items)} update(s), subject: {edition.subject}",
            file=sys.stderr,
        )
    print(Path(target).resolve())
    return 0
