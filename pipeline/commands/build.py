"""``build``: build pages, feeds and snippets from the content folder.

Read every update, validate it, and publish the site atomically to the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import jinja2

from pipeline.caching.render_cache import cached_renderer
from pipeline.commands._options import (
    CommandFailed,
    add_config,
    add_content,
    add_now,
    add_out,
    content_failed,
    describe_os_error,
    file_in_the_way,
    not_a_folder,
    now_from,
    settings_from,
)
from pipeline.progress import Progress
from pipeline.publishing.output_folder import PublishError
from pipeline.publishing.site_build import BuildError, run_build
from pipeline.reading.model import ContentError

ORDER = 10


def arguments(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    add_content(parser)
    add_out(parser)
    parser.add_argument("--base-url", metavar="URL", help="override the site's base URL (e.g. for a preview)")
    add_now(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="render every update afresh, neither reading nor writing the render cache in the state folder",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = now_from(args, settings)
    blocker = file_in_the_way(args.out)
    if blocker is not None:
        raise CommandFailed(f"--out {args.out}: {not_a_folder(blocker)}; nothing was built")
    try:
        shown = False if args.quiet else None  # None: on a terminal only
        with Progress("rendering", 0, enabled=shown) as bar, Progress("writing", 0, enabled=shown) as writing:
            renderer = cached_renderer(settings, use_cache=not args.no_cache, progress=bar)

            def wrote(done: int, total: int) -> None:
                bar.close()  # rendering is over: the writing bar takes its line
                writing(done, total)

            outcome = run_build(
                args.content,
                args.out,
                settings,
                now,
                renderer=renderer,
                use_cache=not args.no_cache,
                progress=wrote,
            )
    except ContentError as exc:
        raise content_failed(exc, args.out) from None
    except (BuildError, PublishError) as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError) and _beside_out(cause, args.out):
            # the lock file beside OUT cannot be made (/proc, /sys, read-only): --out's problem
            raise CommandFailed(f"--out {args.out}: cannot write {describe_os_error(cause)}") from None
        raise CommandFailed(f"{exc}; {args.out} was not changed") from None
    except OSError as exc:
        # The publish stages beside OUT and locks it there: a folder that cannot hold OUT
        # (/proc, /sys, read-only or full) fails here, before anything in OUT is replaced.
        blame = f"--out {args.out}: " if _beside_out(exc, args.out) else ""
        raise CommandFailed(f"{blame}cannot write {describe_os_error(exc)}") from None
    except jinja2.TemplateError as exc:
        where = f"{exc.filename}:{exc.lineno}: " if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise CommandFailed(f"template error: {where}{exc}; {args.out} was not changed") from None
    summary = outcome.summary
    for warning in summary.warnings:
        print(warning, file=sys.stderr)
    if not args.quiet:
        report = outcome.report
        if outcome.skipped:
            done = f"nothing changed since the last build: {args.out}/ left as it was"
        else:
            done = (
                f"{len(report.written)} files written, {len(report.removed)} removed, "
                f"{report.unchanged} unchanged"
            )
        print(
            f"built {summary.updates} updates into {args.out}/ ({done}; {summary.drafts} drafts and "
            f"{len(summary.scheduled)} scheduled not published)"
        )
        print(
            f"ready to upload: pages in {args.out}/, feeds in {args.out}/feeds/, snippets in {args.out}/snippets/"
        )
        print("to look at it with working links, run: python -m pipeline serve")
    return 0


def _beside_out(exc: OSError, out: str) -> bool:
    """Whether the failed path is OUT, inside it, or its lock or staging folder beside it."""
    if exc.filename is None:
        return False
    failed = Path(os.fsdecode(exc.filename)).absolute()
    target = Path(out).absolute()
    return failed.is_relative_to(target) or (failed.parent == target.parent and target.name in failed.name)
