"""``web``: run the subscription service (sign-up, confirm, unsubscribe, preferences).

Serve the subscription service with uvicorn: POST /subscribe, /confirm/TOKEN, /unsubscribe/TOKEN
(RFC 8058 one-click) and /preferences/TOKEN. Meant to run behind a reverse proxy that terminates
HTTPS at [web] public_url. GOAL17_SECRET (at least 32 random bytes, the value send uses) must be
set; --dev runs on the public development secret instead, on a loopback address and with the outbox
only.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.commands._options import CommandFailed, add_config, settings_from
from pipeline.commands._uvicorn import listen, make_app, run_uvicorn
from pipeline.web.secret import is_loopback

ORDER = 62


def arguments(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default: 8080; 0 picks a free one)"
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development only: without GOAL17_SECRET, sign links with the public development secret "
        "(anyone can forge them; warned on every start; loopback address and outbox only)",
    )


def run(args: argparse.Namespace) -> int:
    if args.dev and not is_loopback(args.host):
        raise CommandFailed(
            f"--dev listens on a loopback address only (127.0.0.1, ::1), not {args.host}", code=2
        )
    settings = settings_from(args)
    app = make_app(settings, production=True, development=args.dev)
    # after make_app: a service that cannot start has no form to warn about
    if not settings.web.privacy_url:  # every sign-up records consent (GDPR art. 7 and 13)
        print(
            "warning: [web] privacy_url is empty: the sign-up form collects consent without linking "
            "to how personal data is handled; set it in site.toml",
            file=sys.stderr,
            flush=True,
        )
    sock, url = listen(args.host, args.port)
    print(f"subscription service at {url}subscribe (Ctrl-C stops it)", flush=True)
    return run_uvicorn(
        app,
        sock,
        log_level="info",
        proxy_headers=False,  # [web] trust_forwarded_for decides which client address counts
        h11_max_incomplete_event_size=16_384,
    )
