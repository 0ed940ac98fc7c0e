"""``serve``: preview the output folder over HTTP with the headers the real host should send.

The subscription service (:mod:`pipeline.web`) runs in the same server: its routes
(``/subscribe``, ``/confirm/…``, ``/unsubscribe/…``, ``/preferences/…``) first, every other
path from the output folder by the rules in :mod:`pipeline.serve`. One uvicorn process.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands._options import CommandFailed, add_config, add_out, settings_from
from pipeline.commands._uvicorn import listen, make_app, run_uvicorn

ORDER = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="preview the output folder in a browser or feed reader",
        description=(
            "Serve the output folder on this machine with the production headers: feed media types, "
            "strong ETags, Last-Modified, 304 Not Modified, CORS on feeds/ and snippets/, a short "
            "Cache-Control. For preview only; see docs/serving.md for a real host."
        ),
    )
    add_config(parser)
    add_out(parser)
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.out)
    if not root.is_dir():
        raise CommandFailed(f"{root} is not a folder: build first (python -m pipeline build --out {root})")
    settings = settings_from(args)
    app = make_app(settings, root, host=args.host)
    sock, url = listen(args.host, args.port)
    print(f"serving {root}/ at {url} (Ctrl-C to stop)", flush=True)
    print(f"subscription service at {url}subscribe", flush=True)
    return run_uvicorn(app, sock, log_level="warning" if args.quiet else "info", access_log=not args.quiet)
