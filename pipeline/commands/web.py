"""``web``: the subscription service alone, for production behind a reverse proxy (uvicorn)."""

from __future__ import annotations

import argparse

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
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
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
    print(f"subscription service on http://{args.host}:{args.port}/subscribe (Ctrl-C stops it)", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=False,  # [web] trust_forwarded_for decides which client address counts
        server_header=False,
        date_header=True,
        h11_max_incomplete_event_size=16_384,
        timeout_keep_alive=5,
    )
    return 0
