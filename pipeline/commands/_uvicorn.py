"""Running the ASGI app for ``serve`` and ``web``: one way to make it, bind, and run uvicorn."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

from pipeline.commands._options import CommandFailed
from pipeline.config.site import Settings, SettingsError


def make_app(
    settings: Settings,
    out_dir: Path | None = None,
    *,
    production: bool = False,
    development: bool = False,
    host: str | None = None,
) -> Any:
    """The subscription service (plus the static preview of ``out_dir``), or a clear failure.

    ``production`` (``web``): a real ``GOAL17_SECRET`` is required unless ``development``
    (``web --dev``); otherwise (``serve``) the preview's outbox rule. Either way a warning goes to
    stderr on every start that signs with the public development secret
    (:mod:`pipeline.web.secret`). Given the ``host`` it will listen on, it refuses the development
    secret on an address other machines can reach.
    """
    from pipeline.delivery.tokens import SecretMissing
    from pipeline.web.app import create_app
    from pipeline.web.secret import is_loopback, preview_secret, service_secret

    try:
        transport = settings.newsletter.transport
        if production:
            secret = service_secret(development=development, transport=transport)
        else:
            secret = preview_secret(transport=transport)
        # Refused before the app exists: the app opens the database on a thread of its own,
        # which nothing would close once the command has failed (a process that goes on, such
        # as a test run, kept one thread and one connection per refusal).
        if secret.development and host is not None and not is_loopback(host):
            raise CommandFailed(
                f"the sign-up service would sign links with the public development secret on {host}, "
                "where others can reach it and forge them: set GOAL17_SECRET, or listen on 127.0.0.1",
                code=2,
            )
        app = create_app(settings, out_dir, secret=secret.value)
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    except SecretMissing as exc:
        raise CommandFailed(str(exc)) from None
    if secret.warning:
        print(secret.warning, file=sys.stderr, flush=True)
    return app


def listen(host: str, port: int) -> tuple[socket.socket, str]:
    """Bind and listen before printing anything, so a printed address is one that answers.

    Returns the socket and the base URL (with the real port when ``port`` was 0).
    """
    if not 0 <= port <= 65535:
        raise CommandFailed(f"--port must be between 0 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog until uvicorn has started
    except OSError as exc:
        sock.close()
        raise CommandFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return sock, f"http://{shown}:{bound_port}/"


def run_uvicorn(app: Any, sock: socket.socket, **options: Any) -> int:
    import uvicorn

    config = uvicorn.Config(app, server_header=False, timeout_keep_alive=5, **options)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        print("stopped")
    finally:
        sock.close()
    return 0
