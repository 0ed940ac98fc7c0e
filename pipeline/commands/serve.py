"""``serve``: preview the output folder over HTTP with the headers the real host should send.

The subscription service (:mod:`pipeline.web`) runs in the same server: its routes
(``/subscribe``, ``/confirm/…``, ``/unsubscribe/…``, ``/preferences/…``) first, every other
path from the output folder by the rules in :mod:`pipeline.serve`. One uvicorn process.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from pipeline.commands._options import CommandFailed, add_config, add_out, settings_from

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
    if not 0 <= args.port <= 65535:
        raise CommandFailed(f"--port must be between 0 and 65535, got {args.port}")
    import uvicorn

    from pipeline.newsletter.tokens import SecretMissing
    from pipeline.settings import SettingsError
    from pipeline.web.app import create_app

    settings = settings_from(args)
    try:
        app = create_app(settings, root)
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    except SecretMissing as exc:
        raise CommandFailed(str(exc)) from None
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
        sock.listen(128)  # connections wait in the backlog until uvicorn has started
    except OSError as exc:
        sock.close()
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {root}/ at http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
    print(f"subscription service at http://{shown}:{port}/subscribe", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning" if args.quiet else "info",
        access_log=not args.quiet,
        server_header=False,
        timeout_keep_alive=5,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        print("stopped")
    finally:
        sock.close()
    return 0
