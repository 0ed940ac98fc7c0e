"""``web``: the subscription service alone, for production behind a reverse proxy (uvicorn)."""

from __future__ import annotations

import argparse
import socket

from pipeline.commands._options import CommandFailed, add_config, settings_from
from pipeline.newsletter.tokens import SecretMissing
from pipeline.settings import SettingsError

ORDER = 62


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "web",
        help="run the subscription service (sign-up, confirm, unsubscribe, preferences)",
        description=(
            "Serve the subscription service with uvicorn: POST /subscribe, /confirm/TOKEN, "
            "/unsubscribe/TOKEN (RFC 8058 one-click) and /preferences/TOKEN. Meant to run behind "
            "a reverse proxy that terminates HTTPS at [web] public_url. GOAL17_SECRET must be set "
            "unless mail goes to the outbox."
        ),
    )
    add_config(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default: 8080; 0 picks a free one)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from pipeline.web.app import create_app

    settings = settings_from(args)
    if not 0 <= args.port <= 65535:
        raise CommandFailed(f"--port must be 0–65535, got {args.port}")
    try:
        app = create_app(settings)
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
    print(f"subscription service at http://{shown}:{port}/subscribe (Ctrl-C stops it)", flush=True)
    config = uvicorn.Config(
        app,
        log_level="info",
        proxy_headers=False,  # [web] trust_forwarded_for decides which client address counts
        server_header=False,
        h11_max_incomplete_event_size=16_384,
        timeout_keep_alive=5,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        print("stopped")
    finally:
        sock.close()
    return 0
