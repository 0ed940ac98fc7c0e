"""``build``: build pages, feeds and snippets from the content folder.

Read every update, validate it, and publish the site atomically to the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.commands._options import (
    CommandFailed,
    add_config,
    add_content,
    add_now,
    add_out,
    content_failed,
    describe_os_error,
    file_in_the_way,
    loaded_error,
    not_a_folder,
    now_from,
    settings_from,
)
from pipeline.config.site import Settings
from pipeline.locale.cli import tr
from pipeline.progress import Progress
from pipeline.publishing.output_folder import PublishError
from pipeline.publishing.site_build import BuildError, run_build
from pipeline.reading.model import AfterRender, ContentError

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
        raise CommandFailed(
            tr("--out {out}: {reason}; nothing was built", out=args.out, reason=not_a_folder(blocker))
        )
    try:
        shown = False if args.quiet else None  # None: on a terminal only
        with (
            Progress(tr("rendering"), 0, enabled=shown) as bar,
            Progress(tr("writing"), 0, enabled=shown) as writing,
        ):
            renderer = _RendererOnFirstUse(settings, use_cache=not args.no_cache, progress=bar)

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
            raise CommandFailed(
                tr("--out {out}: cannot write {reason}", out=args.out, reason=describe_os_error(cause))
            ) from None
        raise CommandFailed(tr("{reason}; {out} was not changed", reason=exc, out=args.out)) from None
    except OSError as exc:
        # The publish stages beside OUT and locks it there: a folder that cannot hold OUT
        # (/proc, /sys, read-only or full) fails here, before anything in OUT is replaced.
        reason = describe_os_error(exc)
        if _beside_out(exc, args.out):
            raise CommandFailed(
                tr("--out {out}: cannot write {reason}", out=args.out, reason=reason)
            ) from None
        raise CommandFailed(tr("cannot write {reason}", reason=reason)) from None
    except loaded_error("jinja2", "TemplateError") as exc:
        syntax = isinstance(exc, loaded_error("jinja2", "TemplateSyntaxError"))
        where = f"{exc.filename}:{exc.lineno}: " if syntax else ""
        raise CommandFailed(
            tr(
                "template error: {where}{reason}; {out} was not changed",
                where=where,
                reason=exc,
                out=args.out,
            )
        ) from None
    summary = outcome.summary
    for warning in summary.warnings:
        print(warning, file=sys.stderr)
    if not args.quiet:
        report = outcome.report
        if outcome.skipped:
            done = tr("nothing changed since the last build: {out}/ left as it was", out=args.out)
        else:
            done = tr(
                "{written} files written, {removed} removed, {unchanged} unchanged",
                written=len(report.written),
                removed=len(report.removed),
                unchanged=report.unchanged,
            )
        print(
            tr(
                "built {updates} updates into {out}/ ({done}; {drafts} drafts and {scheduled} scheduled not published)",
                updates=summary.updates,
                out=args.out,
                done=done,
                drafts=summary.drafts,
                scheduled=len(summary.scheduled),
            )
        )
        print(
            tr(
                "ready to upload: pages in {out}/, feeds in {out}/feeds/, snippets in {out}/snippets/",
                out=args.out,
            )
        )
        print(tr("to look at it with working links, run: python -m pipeline serve"))
    return 0


def _beside_out(exc: OSError, out: str) -> bool:
    """Whether the failed path is OUT, inside it, or its lock or staging folder beside it."""
    if exc.filename is None:
        return False
    failed = Path(os.fsdecode(exc.filename)).absolute()
    target = Path(out).absolute()
    return failed.is_relative_to(target) or (failed.parent == target.parent and target.name in failed.name)


class _RendererOnFirstUse:
    """The build's cached renderer (:func:`pipeline.caching.render_cache.cached_renderer`), made
    when it is first called: a build skipped because nothing changed renders nothing, and so
    does not import the render cache and Markdown (≈ 50 ms of its 0.5 s)."""

    def __init__(self, settings: Settings, use_cache: bool, progress: Any):
        self._settings = settings
        self._use_cache = use_cache
        self._progress = progress
        self._renderer: Any = None

    def __call__(self, bodies: list[str], then: AfterRender | None = None, settle: Any = None) -> list[Any]:
        if self._renderer is None:
            from pipeline.caching.render_cache import DIRECT_BELOW, cached_renderer

            self._renderer = cached_renderer(
                self._settings, use_cache=self._use_cache, progress=self._progress, direct_below=DIRECT_BELOW
            )
        return self._renderer(bodies, then, settle)
