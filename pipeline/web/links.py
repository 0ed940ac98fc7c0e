"""The endpoints behind the links in mail: confirm, unsubscribe (RFC 8058 one-click), preferences.

A GET never changes anything (mail scanners follow links); each change is a POST. Tokens are
checked by :class:`~pipeline.web.service.SubscriptionService`, so they validate on every instance.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import Response

from pipeline.stores.subscribers import Subscriber
from pipeline.web.bodies import BodyError
from pipeline.web.responder import Responder
from pipeline.web.service import InputError, LinkError
from pipeline.web.texts import texts

log = logging.getLogger("pipeline.web")


class LinkHandlers(Responder):
    """``/confirm/<token>``, ``/unsubscribe/<token>``, ``/preferences/<token>`` (+ ``data.json``)."""

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


__all__ = ["LinkHandlers"]
