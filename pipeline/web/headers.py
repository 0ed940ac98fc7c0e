"""Protective headers on every answer of the service, and no cookies (RFC 8058 needs none)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Tokens are in URLs: never send them to another site in a Referer. The sign-up page has no
    # token and must keep its Origin: under "no-referrer" a browser posts its form with
    # "Origin: null", which the service refuses (a sandboxed iframe sends the same).
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]
SERVICE_PREFIXES = ("/subscribe", "/confirm/", "/unsubscribe/", "/preferences/")


class SecurityHeaders:
    """Adds protective headers to every answer of the service (not the built site's files) and
    drops any Set-Cookie: RFC 8058 one-click unsubscribe must work without cookies."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SERVICE_PREFIXES):
            await self.app(scope, receive, send)  # the built site keeps its own headers
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"set-cookie"]
                present = {k.lower() for k, _ in headers}
                if scope["path"] == "/subscribe":
                    present.add(b"referrer-policy")
                    headers.append((b"referrer-policy", b"same-origin"))
                headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["SECURITY_HEADERS", "SERVICE_PREFIXES", "SecurityHeaders"]
