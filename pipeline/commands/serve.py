"""``serve``: preview the site, feeds, newsletter and sign-up service in a browser, rebuilt on every edit.

Build the content with this machine's address as base URL into a preview folder under the state
folder (never outputs/), serve it and the subscription service on one port, and rebuild when
content/, templates/ or the settings file change; open pages reload themselves. Sign-ups go to the
preview's own subscriber list and their mails to its outbox. With --out DIR: serve an existing
output folder as it is, with the production headers (no build). For one person on this machine; see
docs/serving.md for a real host.

Without ``--out`` (the everyday case) it builds the content into a preview folder under the
state folder with this machine's address as base URL, serves it with the subscription service on
one port, and rebuilds when ``content/``, ``templates/`` or the settings file change; open pages
reload themselves after a rebuild (see :mod:`pipeline.preview.live`). Why ``serve`` and not a new
``preview`` command: the README already promised ``serve`` as *the* way to look at the site, and
a production build opened locally was the trap; one command that always shows the truth is the
fix, not a second one to discover.

With ``--out DIR`` it serves an existing output folder as it is (no build, no watching): the
production headers of :mod:`pipeline.preview.http_headers` over a real build, e.g. to check one before upload.
The service's routes (``/subscribe``, ``/confirm/…``, ``/unsubscribe/…``, ``/preferences/…``)
come first, every other path is a file of the folder. One uvicorn process.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from pipeline.commands._options import CommandFailed, add_config, add_content, now_from, settings_from
from pipeline.commands._uvicorn import listen, make_app, run_uvicorn
from pipeline.locale.cli import tr

ORDER = 30


def arguments(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    add_content(parser)
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="serve this already built output folder as it is, instead of building a preview",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--no-watch", action="store_true", help="preview: build once, do not rebuild on edits"
    )
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="preview: treat this as the current time (ISO 8601), e.g. to see scheduled updates",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        return _serve_folder(args)
    return _preview(args)


def _serve_folder(args: argparse.Namespace) -> int:
    root = Path(args.out)
    if not root.is_dir():
        raise CommandFailed(
            tr("{root} is not a folder: build first (python -m pipeline build --out {root})", root=root)
        )
    settings = settings_from(args)
    app = make_app(settings, root, host=args.host)
    sock, url = listen(args.host, args.port)
    print(tr("serving {root}/ at {url} (Ctrl-C to stop)", root=root, url=url), flush=True)
    print(tr("subscription service at {url}subscribe", url=url), flush=True)
    return _run(app, sock, args)


def _preview(args: argparse.Namespace) -> int:
    from pipeline.config.site import Settings, SettingsError, load_settings
    from pipeline.preview.live import (
        PreviewApp,
        PreviewBuilder,
        Watcher,
        preview_paths,
        preview_settings,
    )

    if not Path(args.content).is_dir():
        raise CommandFailed(
            tr("{content} is not a folder (give the content folder with --content DIR)", content=args.content)
        )
    settings = settings_from(args)
    fixed_now = now_from(args, settings) if args.now else None
    paths = preview_paths(settings)
    sock, url = listen(args.host, args.port)  # the URL (and its port) is part of every link built
    try:
        local = preview_settings(settings, url, paths)
        outbox = local.newsletter.outbox
    except SettingsError as exc:
        sock.close()
        raise CommandFailed(tr("invalid settings"), details=exc.problems) from None

    def now() -> datetime:
        return fixed_now or datetime.now(local.tz)

    def current_settings() -> Settings:  # the settings file is read again for every build
        return preview_settings(load_settings(args.config), url, paths)

    builder = PreviewBuilder(args.content, current_settings, paths, now)
    error = builder.build()
    if error is not None and not (paths.site / "index.html").is_file():
        sock.close()
        first, *details = error.splitlines()
        raise CommandFailed(tr("the preview could not be built: {reason}", reason=first), details=details)
    if error is not None:
        print("error: " + tr("{reason}\n(showing the previous preview build)", reason=error), flush=True)
    try:
        app = PreviewApp(make_app(local, paths.site, host=args.host), builder.state)
    except CommandFailed:
        sock.close()
        raise
    watcher = None
    if not args.no_watch:

        def rebuild() -> None:
            failed = builder.build()
            print(
                tr("rebuild failed: {reason}", reason=failed) if failed else tr("rebuilt: {url}", url=url),
                flush=True,
            )

        from pipeline.preview.live import watched_paths

        watcher = Watcher(watched_paths(args.content, local), rebuild)
        watcher.start()
    print(
        tr(
            "preview of {content}/ at {url} (built into {site}/; Ctrl-C to stop)",
            content=args.content,
            url=url,
            site=paths.site,
        ),
        flush=True,
    )
    print(
        tr(
            "sign-up form: {url}subscribe · newsletter: {url}newsletters/ · mails land in {outbox}/",
            url=url,
            outbox=outbox,
        ),
        flush=True,
    )
    if watcher is not None:
        print(tr("watching content, templates and settings; pages reload after each rebuild"), flush=True)
    try:
        return _run(app, sock, args)
    finally:
        if watcher is not None:
            watcher.stop()


def _run(app, sock, args: argparse.Namespace) -> int:
    return run_uvicorn(app, sock, log_level="warning" if args.quiet else "info", access_log=not args.quiet)
