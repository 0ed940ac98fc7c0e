"""``/subscribe``: the form, the CORS preflight, and the sign-up itself (form or JSON).

The same neutral answer whatever the address's state, a honeypot field, and the per-client and
per-address limits (:class:`~pipeline.stores.protocols.RateLimits`, shared between instances with
PostgreSQL).
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pipeline.web.responder import Responder
from pipeline.web.service import InputError, parse_sign_up
from pipeline.web.texts import next_steps, texts

log = logging.getLogger("pipeline.web")

HONEYPOT = "website"


class SignUpHandlers(Responder):
    """The ``/subscribe`` endpoints."""

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


__all__ = ["HONEYPOT", "SignUpHandlers"]
