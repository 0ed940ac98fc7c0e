"""The subscription service as a Starlette ASGI application: ``create_app(settings)``.

Endpoints (each page in Swedish or English: the subscriber's language, else the browser's):

- ``GET /subscribe`` the sign-up form; ``POST /subscribe`` (form or JSON; CORS for partner sites)
  creates a pending subscriber and mails a confirmation link — the same neutral answer whatever
  the address's state, a honeypot field, and per-client and per-address limits;
- ``GET /confirm/<token>`` a page with a button; ``POST /confirm/<token>`` activates;
- ``GET /unsubscribe/<token>`` a page with a button, changing nothing (mail scanners follow
  links); ``POST /unsubscribe/<token>`` (RFC 8058 ``List-Unsubscribe=One-Click`` or the button)
  unsubscribes at once and answers 200 — no redirect, no cookie, no login;
- ``GET/POST /preferences/<token>`` language, targets, "delete my data";
  ``GET /preferences/<token>/data.json`` everything stored, consent history included.

No endpoint sets a cookie or runs a script; every body is read through
:mod:`pipeline.web.bodies`, so malformed or oversized input is a 4xx, never a 500.

The pieces: :mod:`~pipeline.web.responder` (how an answer is made), :mod:`~pipeline.web.signup`
and :mod:`~pipeline.web.links` (the endpoints), :mod:`~pipeline.web.headers` (protective headers);
this module adds the error pages and the routes, and assembles the application.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from email.message import EmailMessage
from http import HTTPStatus
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from pipeline.config.site import Settings
from pipeline.delivery import tokens
from pipeline.delivery.transports import reaches_readers
from pipeline.stores.postgres import DatabaseUnavailable
from pipeline.web.bodies import BodyError
from pipeline.web.headers import SecurityHeaders
from pipeline.web.links import LinkHandlers
from pipeline.web.service import (
    Mailer,
    SubscriptionService,
)
from pipeline.web.signup import SignUpHandlers
from pipeline.web.texts import texts

log = logging.getLogger("pipeline.web")


class App(SignUpHandlers, LinkHandlers):
    """Request handlers bound to one service and one config (the limits are the service's)."""

    # -- errors --------------------------------------------------------------------------------

    async def body_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyError)
        headers = self.cors_headers(request) if request.url.path.rstrip("/").endswith("/subscribe") else {}
        if "json" in request.headers.get("content-type", "") or "json" in request.headers.get("accept", ""):
            return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)
        lang = self.page_lang(request)
        return self.page(
            "base.html",
            lang,
            status=exc.status,
            title=texts(lang)["bad_request_title"],
            paragraphs=[exc.message],
            headers=headers,
        )

    async def database_error(self, request: Request, exc: Exception) -> Response:
        """PostgreSQL down or unreachable: 503 with one log line, not a 500 with a traceback."""
        log.error("%s %s: %s", request.method, request.url.path, exc)
        headers = self.cors_headers(request) if request.url.path.rstrip("/").endswith("/subscribe") else {}
        headers["Retry-After"] = "30"
        lang = self.page_lang(request)
        wants_json = "json" in request.headers.get("content-type", "") + request.headers.get("accept", "")
        if wants_json:
            return JSONResponse({"error": "database unavailable"}, status_code=503, headers=headers)
        return self.page(
            "base.html",
            lang,
            status=503,
            title=HTTPStatus.SERVICE_UNAVAILABLE.phrase,
            paragraphs=[texts(lang)["limited_body"]],  # "wait a moment and try again"
            headers=headers,
        )

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        lang = self.page_lang(request)
        if exc.status_code == 404:
            return self.message(lang, "not_found", status=404)
        response = self.page(
            "base.html",
            lang,
            status=exc.status_code,
            title=str(exc.detail),
            paragraphs=[],
            headers=exc.headers,
        )
        return response

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/subscribe", self.subscribe_form, methods=["GET"]),
            Route("/subscribe", self.subscribe, methods=["POST"]),
            Route("/subscribe", self.subscribe_preflight, methods=["OPTIONS"]),
            Route("/confirm/{token}", self.confirm_page, methods=["GET"]),
            Route("/confirm/{token}", self.confirm, methods=["POST"]),
            Route("/unsubscribe/{token}", self.unsubscribe_page, methods=["GET"]),
            Route("/unsubscribe/{token}", self.unsubscribe, methods=["POST"]),
            Route("/preferences/{token}/data.json", self.data_export, methods=["GET"]),
            Route("/preferences/{token}", self.preferences_page, methods=["GET"]),
            Route("/preferences/{token}", self.preferences, methods=["POST"]),
        ]


def default_mailer(settings: Settings) -> Mailer:
    """The newsletter's configured transport (outbox folder by default, SMTP when configured)."""
    from pipeline.web.mail_handoff import transport_mailer

    return transport_mailer(settings)


def create_app(
    settings: Settings,
    out_dir: str | Path | None = None,
    *,
    mailer: Mailer | None = None,
    clock: Callable[[], datetime] | None = None,
    secret: bytes | None = None,
) -> Starlette:
    """The ASGI application; with ``out_dir``, files of the built site are served beside it.

    ``mailer`` (default: the configured transport), ``clock`` and ``secret`` (default:
    ``GOAL17_SECRET``; the public development secret only while mail goes to the outbox, with a
    logged warning) are for tests and embedding. The ``web`` and ``serve`` commands pass the
    secret chosen by :mod:`pipeline.web.secret`.
    """
    web = settings.web
    newsletter = settings.newsletter
    if secret is None:
        found = tokens.secret_from_env(allow_development=not reaches_readers(newsletter.transport))
        if found.development:
            from pipeline.web.secret import DEVELOPMENT_WARNING

            log.warning(DEVELOPMENT_WARNING.removeprefix("warning: "))
        secret = found.value
    if clock is None:
        zone = settings.tz

        def clock() -> datetime:
            return datetime.now(zone)

    service = SubscriptionService(
        settings,
        web,
        secret=secret,
        list_id=newsletter.list_id,
        mailer=mailer or default_mailer(settings),
        clock=clock,
    )
    expected = web.url("unsubscribe/")
    if newsletter.unsubscribe_url != expected:
        log.warning(
            "[newsletter] unsubscribe_url is %s but this service answers at %s: "
            "the links in sent mail will not reach it",
            newsletter.unsubscribe_url,
            expected,
        )
    handlers = App(settings, web, service)
    routes = handlers.routes()
    if out_dir is not None:
        from pipeline.web.static import static_route

        routes.append(static_route(Path(out_dir)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            BodyError: handlers.body_error,
            HTTPException: handlers.http_error,
            DatabaseUnavailable: handlers.database_error,
        },
    )
    # Starlette would answer /subscribe/ with a redirect to an absolute URL made from the Host
    # header, i.e. to any site a client names. The service redirects nowhere (issue 17).
    app.router.redirect_slashes = False
    app.state.service = service
    app.state.handlers = handlers
    app.add_middleware(SecurityHeaders)
    return app


__all__ = ["App", "EmailMessage", "create_app"]
