"""``serve``: preview the output folder over HTTP with the headers the real host should send."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands._options import CommandFailed, add_out
from pipeline.serve import make_server

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
    try:
        server = make_server(root, args.host, args.port, quiet=args.quiet)
    except OSError as exc:
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {root}/ at http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
