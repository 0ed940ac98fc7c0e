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
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.config.site import Settings
from pipeline.config.web import WebConfig
from pipeline.delivery import tokens
from pipeline.delivery.transports import reaches_readers
from pipeline.stores.subscribers import Subscriber
from pipeline.web import origins
from pipeline.web.bodies import BodyError, Fields, parse_body, read_limited
from pipeline.web.language import choose, negotiate
from pipeline.web.service import (
    InputError,
    LinkError,
    Mailer,
    SubscriptionService,
    parse_sign_up,
)
from pipeline.web.texts import next_steps, texts

log = logging.getLogger("pipeline.web")

HONEYPOT = "website"
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
LINK_STATUS = {"invalid": 400, "expired": 410, "used": 410, "gone": 410}


class App:
    """Request handlers bound to one service and one config (the limits are the service's)."""

    def __init__(self, settings: Settings, web: WebConfig, service: SubscriptionService):
        self.settings = settings
        self.web = web
        self.service = service
        self.env = settings.env

    # -- helpers -------------------------------------------------------------------------------

    def page_lang(self, request: Request, *preferred: str | None) -> str:
        query = request.query_params.get("lang")
        browser = negotiate(request.headers.get("accept-language"), self.settings.language)
        return choose(query, *preferred, browser, default=self.settings.language)

    def page(
        self,
        template: str,
        lang: str,
        *,
        status: int = 200,
        title: str,
        paragraphs: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        context.setdefault("next", next_steps())  # what an answer page offers next (texts.NEXT_STEPS)
        html = self.env.get_template(f"web/{template}").render(
            lang=lang,
            T=texts(lang),
            settings=self.settings,
            web=self.web,
            title=title,
            paragraphs=paragraphs or [],
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=headers)
        response.headers["cache-control"] = "no-store"
        response.headers["content-language"] = lang
        return response

    def message(
        self, lang: str, key: str, *, status: int = 200, link: str = "", **fields: Any
    ) -> HTMLResponse:
        T = texts(lang)
        body = T.get(f"{key}_body", "")
        fields.setdefault("days", self.web.token_days)
        fields.setdefault("site", self.settings.title)
        return self.page(
            "base.html",
            lang,
            status=status,
            title=T[f"{key}_title"],
            paragraphs=[body.format(**fields)] if body else [],
            next=next_steps(key, link),
        )

    def link_error(self, request: Request, error: LinkError, *, json_wanted: bool = False) -> Response:
        lang = self.page_lang(request, error.lang)
        status = LINK_STATUS[error.kind]
        key = {"gone": "not_subscribed"}.get(error.kind, error.kind)
        if json_wanted:
            return JSONResponse(
                {"error": error.kind}, status_code=status, headers={"cache-control": "no-store"}
            )
        # which kind of link broke decides the next step (behind a proxy the path may have a prefix)
        kinds = ("confirm", "unsubscribe", "preferences")
        link = next((part for part in request.url.path.split("/") if part in kinds), "")
        return self.message(lang, key, status=status, link=link)

    async def fields(self, request: Request) -> Fields:
        body = await read_limited(
            request.stream(), request.headers.get("content-length"), self.web.max_body_bytes
        )
        return parse_body(body, request.headers.get("content-type"), request.headers.get("content-encoding"))

    def client_key(self, request: Request) -> str:
        if self.web.trust_forwarded_for:
            forwarded = request.headers.get("x-forwarded-for", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            if hops:
                return hops[-1][:64]
        return request.client.host if request.client else "unknown"

    def cors_headers(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if not origin or not origins.allows(self.web.allowed_origins, origins.parse_origin(origin)):
            return {}
        allow = "*" if "*" in self.web.allowed_origins else origin
        headers = {"access-control-allow-origin": allow}
        if allow != "*":
            headers["vary"] = "Origin"
        return headers

    def foreign_origin(self, request: Request) -> bool:
        """A browser page that is neither this service nor an allowed partner (a form elsewhere,
        a sandboxed iframe: ``Origin: null``); the rules are in :mod:`pipeline.web.origins`."""
        sent = request.headers.getlist("origin")
        referers = request.headers.getlist("referer")
        if len(sent) > 1 or len(referers) > 1:
            return True  # a browser sends one of each; two can only be a forgery
        own = (
            origins.origin_of_url(self.web.public_url),
            origins.host_origin(request.url.scheme, request.headers.get("host")),
        )
        return origins.is_foreign(
            sent[0] if sent else None, referers[0] if referers else None, own, self.web.allowed_origins
        )

    # -- /subscribe ----------------------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        lang = self.page_lang(request)
        # ?targets=17.9 (repeatable): "follow this target" links on the site tick its box
        chosen = set(request.query_params.getlist("targets"))
        return self.page(
            "subscribe.html", lang, title=texts(lang)["subscribe_title"], chosen=chosen, error=""
        )

    async def subscribe_preflight(self, request: Request) -> Response:
        headers = self.cors_headers(request)
        if not headers:
            return Response(status_code=403)
        headers.update(
            {
                "access-control-allow-methods": "POST",
                "access-control-allow-headers": "Content-Type, Accept, Accept-Language",
                "access-control-max-age": "86400",
            }
        )
        return Response(status_code=204, headers=headers)

    async def subscribe(self, request: Request) -> Response:
        cors = self.cors_headers(request)
        json_wanted = "application/json" in request.headers.get("accept", "") or request.headers.get(
            "content-type", ""
        ).startswith("application/json")
        browser_lang = self.page_lang(request)
        if self.foreign_origin(request):
            return self._subscribe_refused(browser_lang, 403, "origin not allowed", json_wanted, cors)
        fields = await self.fields(request)
        json_wanted = json_wanted or fields.kind == "json"
        chosen_lang = fields.first("language") or fields.first("lang")
        lang = self.page_lang(request, chosen_lang)
        T = texts(lang)
        wait = await self.service.call(self.service.limits.client_hit, self.client_key(request))
        if wait is not None:
            headers = {**cors, "retry-after": str(wait)}
            if json_wanted:
                return JSONResponse({"error": "rate limited", "message": T["limited_body"]}, 429, headers)
            return self.page(
                "base.html",
                lang,
                status=429,
                title=T["limited_title"],
                paragraphs=[T["limited_body"]],
                headers=headers,
            )
        if fields.first(HONEYPOT):
            log.info("sign-up with the honeypot field filled in: ignored")
            return self._neutral(lang, json_wanted, cors)
        try:
            sign_up = parse_sign_up(
                fields.first("email"),
                chosen_lang if chosen_lang in ("sv", "en") else lang,
                fields.all("targets"),
                source="api" if fields.kind == "json" else "form",
                page=fields.first("page") or request.headers.get("referer") or request.headers.get("origin"),
            )
        except InputError as exc:
            if json_wanted:
                return JSONResponse({"error": exc.key, "message": T[exc.key]}, 400, cors)
            return self.page(
                "subscribe.html",
                lang,
                status=400,
                title=T["subscribe_title"],
                error=T[exc.key],
                chosen=set(fields.all("targets")),
                email=fields.first("email")[:254],
                headers=cors,
            )
        outcome = await self.service.call(self.service.sign_up, sign_up)
        log.info("sign-up: %s", outcome.action)
        response = self._neutral(lang, json_wanted, cors)
        if outcome.mail is not None:
            # After the answer is sent: every answer takes the same time, mail or not.
            response.background = BackgroundTask(self.service.send, outcome.mail)
        return response

    def _neutral(self, lang: str, json_wanted: bool, cors: dict[str, str]) -> Response:
        T = texts(lang)
        body = T["check_body"].format(days=self.web.token_days)
        if json_wanted:
            return JSONResponse({"ok": True, "message": body}, status_code=202, headers=cors)
        return self.page(
            "base.html",
            lang,
            status=202,
            title=T["check_title"],
            paragraphs=[body],
            headers=cors,
            next=next_steps("check"),
        )

    def _subscribe_refused(
        self, lang: str, status: int, reason: str, json_wanted: bool, cors: dict[str, str]
    ) -> Response:
        if json_wanted:
            return JSONResponse({"error": reason}, status_code=status, headers=cors)
        T = texts(lang)
        return self.page("base.html", lang, status=status, title=T["bad_request_title"], paragraphs=[reason])

    # -- /confirm ------------------------------------------------------------------------------

    async def confirm_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self.service.call(self.service.pending_for, token)
        except LinkError as exc:
            return self.link_error(request, exc)
        lang = self.page_lang(request, subscriber.lang)
        T = texts(lang)
        return self.page(
            "action.html",
            lang,
            title=T["confirm_title"],
            paragraphs=[T["confirm_body"].format(site=self.settings.title, email=subscriber.email)],
            action=self.web.url(f"confirm/{token}"),
            hidden=[("confirm", "yes")],
            button=T["confirm_button"],
            preferences_url="",
        )

    async def confirm(self, request: Request) -> Response:
        await self.fields(request)
        token = request.path_params["token"]
        try:
            subscriber = await self.service.call(self.service.confirm, token)
        except LinkError as exc:
            return self.link_error(request, exc)
        return self._confirmed(self.page_lang(request, subscriber.lang), subscriber)

    def _confirmed(self, lang: str, subscriber: Subscriber) -> Response:
        T = texts(lang)
        return self.page(
            "done.html",
            lang,
            title=T["confirmed_title"],
            paragraphs=[T["confirmed_body"].format(site=self.settings.title, email=subscriber.email)],
            links=[(self.service.preferences_url(subscriber), T["manage_link"])],
        )

    # -- /unsubscribe --------------------------------------------------------------------------

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self.service.call(self.service.unsubscribe_subject, token)
        except LinkError as exc:
            return self.link_error(request, exc)
        if subscriber is None:
            return self.message(self.page_lang(request), "not_subscribed")
        lang = self.page_lang(request, subscriber.lang)
        T = texts(lang)
        if subscriber.status == "unsubscribed":
            return self.message(lang, "unsubscribed", email=subscriber.email)
        return self.page(
            "action.html",
            lang,
            title=T["unsubscribe_title"],
            paragraphs=[T["unsubscribe_body"].format(site=self.settings.title, email=subscriber.email)],
            action=self.web.url(f"unsubscribe/{token}"),
            hidden=[("List-Unsubscribe", "One-Click"), ("via", "page")],
            button=T["unsubscribe_button"],
            preferences_url=self.service.preferences_url(subscriber),
        )

    async def unsubscribe(self, request: Request) -> Response:
        fields = await self.fields(request)
        token = request.path_params["token"]
        source = "form" if fields.first("via") == "page" else "api"
        try:
            subscriber = await self.service.call(self.service.unsubscribe, token, source=source)
        except LinkError as exc:
            return self.link_error(request, exc, json_wanted=fields.kind == "json")
        if subscriber is None:
            return self.message(self.page_lang(request), "not_subscribed")
        lang = self.page_lang(request, subscriber.lang)
        T = texts(lang)
        return self.page(
            "done.html",
            lang,
            title=T["unsubscribed_title"],
            paragraphs=[T["unsubscribed_body"].format(email=subscriber.email)],
            links=[
                (self.web.url("subscribe") + ("?lang=en" if lang == "en" else ""), T["next_resubscribe"]),
                (self.service.preferences_url(subscriber), T["manage_link"]),
            ],
        )

    # -- /preferences --------------------------------------------------------------------------

    def _preferences(
        self,
        request: Request,
        subscriber,
        token: str,
        *,
        status: int = 200,
        error: str = "",
        title_key: str = "preferences_title",
    ) -> Response:
        lang = self.page_lang(request, subscriber.lang)
        T = texts(lang)
        unsubscribe_url = ""
        if subscriber.status != "unsubscribed":
            unsubscribe_url = self.service.unsubscribe_url(subscriber)
        return self.page(
            "preferences.html",
            lang,
            status=status,
            title=T[title_key],
            subscriber=subscriber,
            chosen=set(subscriber.targets),
            error=error,
            action=self.web.url(f"preferences/{token}"),
            data_url=self.web.url(f"preferences/{token}/data.json"),
            unsubscribe_url=unsubscribe_url,
        )

    async def preferences_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self.service.call(self.service.preferences_subject, token)
        except LinkError as exc:
            return self.link_error(request, exc)
        return self._preferences(request, subscriber, token)

    async def preferences(self, request: Request) -> Response:
        fields = await self.fields(request)
        token = request.path_params["token"]
        action = fields.first("action", "save")
        try:
            subscriber = await self.service.call(self.service.preferences_subject, token)
            if action == "erase":
                lang = self.page_lang(request, subscriber.lang)
                if fields.first("confirm") not in ("yes", "on", "true"):
                    return self._preferences(
                        request, subscriber, token, status=400, error=texts(lang)["erase_needs_check"]
                    )
                await self.service.call(self.service.erase, token)
                return self.message(lang, "erased")
            if action != "save":
                raise BodyError(400, f"unknown action {action!r}")
            try:
                subscriber = await self.service.call(
                    self.service.save_preferences,
                    token,
                    lang=fields.first("language") or fields.first("lang"),
                    targets=fields.all("targets"),
                )
            except InputError as exc:
                lang = self.page_lang(request, subscriber.lang)
                return self._preferences(request, subscriber, token, status=400, error=texts(lang)[exc.key])
        except LinkError as exc:
            return self.link_error(request, exc)
        return self._preferences(request, subscriber, token, title_key="saved_title")

    async def data_export(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            record = await self.service.call(self.service.export, token)
        except LinkError as exc:
            return self.link_error(request, exc, json_wanted=True)
        body = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        return Response(
            body.encode("utf-8"),
            media_type="application/json",
            headers={
                "cache-control": "no-store",
                "content-disposition": 'attachment; filename="newsletter-data.json"',
            },
        )

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
        exception_handlers={BodyError: handlers.body_error, HTTPException: handlers.http_error},
    )
    # Starlette would answer /subscribe/ with a redirect to an absolute URL made from the Host
    # header, i.e. to any site a client names. The service redirects nowhere (issue 17).
    app.router.redirect_slashes = False
    app.state.service = service
    app.state.handlers = handlers
    app.add_middleware(SecurityHeaders)
    return app


__all__ = ["App", "EmailMessage", "create_app"]
