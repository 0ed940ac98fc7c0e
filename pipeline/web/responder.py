"""How the subscription service answers: page language, templates, link errors, bodies, clients.

The base of the request handlers (:mod:`pipeline.web.signup`, :mod:`pipeline.web.links`): what
every endpoint needs to read a request and make an answer, and nothing about any one endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from pipeline.config.site import Settings
from pipeline.config.web import WebConfig
from pipeline.web import origins
from pipeline.web.bodies import Fields, parse_body, read_limited
from pipeline.web.language import choose, negotiate
from pipeline.web.service import LinkError, SubscriptionService
from pipeline.web.texts import next_steps, texts

log = logging.getLogger("pipeline.web")

LINK_STATUS = {"invalid": 400, "expired": 410, "used": 410, "gone": 410}


class Responder:
    """Bound to one service and one config; the handlers build on it."""

    def __init__(self, settings: Settings, web: WebConfig, service: SubscriptionService):
        self.settings = settings
        self.web = web
        self.service = service
        self.env = settings.env

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


__all__ = ["LINK_STATUS", "Responder"]
