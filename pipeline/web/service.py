"""What the subscription service does, without HTTP: sign up, confirm, unsubscribe, preferences, erase.

Every change goes through :class:`pipeline.stores.subscribers.SubscriberStore` — the same
store, the same transactions and the same consent log as the ``subscribers`` command — so a
process killed mid-request leaves the old or the new state, never half of it. Links are signed
with :mod:`pipeline.delivery.tokens`:

- confirm links expire (``[web] token_days``) and are *bound* to the subscription they confirm
  (its consent time): a link from an earlier sign-up of the same address never works, and a link
  whose subscription is no longer pending is refused as used — so each confirms once;
- unsubscribe links (in every newsletter's ``List-Unsubscribe``) and preferences links never
  expire: an old message must still let its reader leave (RFC 8058).

The limits (sign-ups per client, confirmation mails per address) are a store too
(:class:`~pipeline.stores.protocols.RateLimits`): in memory and SQLite on one machine, shared in
PostgreSQL by every instance.

Failures a visitor can cause are :class:`LinkError` (the web layer answers 4xx); nothing here
reveals whether an address is on the list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pipeline.config.site import LANGUAGES, Settings
from pipeline.config.web import WebConfig
from pipeline.delivery import tokens
from pipeline.stores.backend import open_backend
from pipeline.stores.protocols import RateLimits
from pipeline.stores.subscribers import (
    Subscriber,
    SubscriberError,
    SubscriberStore,
    normalize_email,
    parse_targets,
    timestamp,
)
from pipeline.web.mails import already_subscribed_mail, confirmation_mail

log = logging.getLogger("pipeline.web")

Mailer = Callable[[EmailMessage], None]
T = TypeVar("T")
Clock = Callable[[], datetime]


class LinkError(Exception):
    """A link that cannot be used: ``kind`` is ``invalid``, ``expired``, ``used`` or ``gone``."""

    def __init__(self, kind: str, detail: str = "", *, lang: str | None = None):
        super().__init__(detail or kind)
        self.kind = kind
        self.lang = lang  # the subscriber's language, once the link is known to be genuine


class InputError(ValueError):
    """A form value we refuse (bad address, unknown target); ``key`` names the text to show."""

    def __init__(self, key: str, detail: str):
        super().__init__(detail)
        self.key = key


@dataclass(frozen=True)
class SignUp:
    email: str
    lang: str
    targets: tuple[str, ...]
    source: str  # "form" or "api"
    page: str | None  # the page the form was on (no query, no fragment)


@dataclass(frozen=True)
class SignUpOutcome:
    """What happened, for logs and tests only — never shown to the visitor."""

    action: str  # "confirmation sent", "already active" or "address limit"
    mail: EmailMessage | None


def clean_page(value: str | None) -> str | None:
    """An http(s) page address without query or fragment (they may hold personal data), or None."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    page = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
    return page[:300]


def parse_sign_up(email: str, lang: str, targets: Sequence[str], *, source: str, page: str | None) -> SignUp:
    """Validate what a visitor typed; raises :class:`InputError`."""
    try:
        address = normalize_email(email)
    except SubscriberError as exc:
        raise InputError("invalid_email", str(exc)) from None
    items: list[str] = []
    for value in targets:
        items.extend(value.replace(",", " ").split())
    try:
        chosen = parse_targets(items)
    except SubscriberError as exc:
        raise InputError("invalid_targets", str(exc)) from None
    return SignUp(address, lang if lang in LANGUAGES else "sv", chosen, source, clean_page(page))


class SubscriptionService:
    """The operations behind the endpoints; the web layer runs them with :meth:`call`."""

    def __init__(
        self,
        settings: Settings,
        web: WebConfig,
        *,
        secret: bytes,
        list_id: str,
        mailer: Mailer,
        clock: Clock,
    ):
        self.settings = settings
        self.web = web
        self.secret = secret
        self.list_id = list_id
        self.mailer = mailer
        self.clock = clock
        # One thread owns the database connection: SQLite serialises writers anyway, and the
        # connection can be closed cleanly by the thread that opened it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-db")
        self._store: SubscriberStore | None = None
        self.limits: RateLimits  # per client and per address; set by _open, used on the database thread
        self._executor.submit(self._open).result()  # create the tables now, not on the first request

    # -- plumbing ------------------------------------------------------------------------------

    def _open(self) -> None:
        backend = open_backend(self.settings)
        backend.prepare("web")  # the per-address quota's table (SQLite: made on open, as before)
        self._store = backend.subscribers()
        self.limits = backend.rate_limits(self.web)

    @property
    def store(self) -> SubscriberStore:
        """The store; use only from the database thread (through :meth:`call`)."""
        assert self._store is not None
        return self._store

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a method on the database thread without blocking the event loop."""
        return await asyncio.wrap_future(self._executor.submit(function, *args, **kwargs))

    def close(self) -> None:
        def close_store() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None
                self.limits.close()

        self._executor.submit(close_store).result()
        self._executor.shutdown()

    def now(self) -> datetime:
        return self.clock()

    # -- links ---------------------------------------------------------------------------------

    def confirm_token(self, subscriber: Subscriber) -> str:
        expires = self.now() + timedelta(days=self.web.token_days)
        return tokens.sign(
            self.secret,
            tokens.CONFIRM_PURPOSE,
            subscriber.uid,
            expires=expires,
            bind=timestamp(subscriber.consent_at),
        )

    def confirm_url(self, subscriber: Subscriber) -> str:
        return self.web.url(f"confirm/{self.confirm_token(subscriber)}")

    def unsubscribe_url(self, subscriber: Subscriber) -> str:
        return self.web.url(
            f"unsubscribe/{tokens.unsubscribe_token(self.secret, subscriber.uid, self.list_id)}"
        )

    def preferences_url(self, subscriber: Subscriber) -> str:
        return self.web.url(f"preferences/{tokens.preferences_token(self.secret, subscriber.uid)}")

    # -- sign-up -------------------------------------------------------------------------------

    def sign_up(self, request: SignUp) -> SignUpOutcome:
        """Create or refresh a pending subscription; the mail to send (confirmation link or, for an
        active subscriber, a note with the preferences link) is in the outcome.

        Whatever the address's state, the visitor gets the same answer; what differs is only
        which mail (if any) the address receives, and at most ``per_address_per_day`` of them.
        The caller sends the mail (:meth:`send`) outside the database thread.
        """
        store = self.store
        now = self.now()
        existing = store.find(request.email)
        if not self.limits.take_mail(request.email, now):
            return SignUpOutcome("address limit", None)
        if existing is not None and existing.status == "active":
            mail = already_subscribed_mail(
                self.settings,
                self.web,
                to=existing.email,
                lang=existing.lang,
                preferences_url=self.preferences_url(existing),
                now=now,
            )
            return SignUpOutcome("already active", mail)
        if existing is not None and existing.status == "pending":
            subscriber = existing
        else:
            subscriber, _ = store.add(
                request.email,
                now=now,
                lang=request.lang,
                targets=request.targets,
                status="pending",
                source=request.source,
                page=request.page,
                resubscribe=True,
                # An erased address may come back through double opt-in: only its owner can
                # confirm. Its suppression hash stays, so imports still leave it out.
                allow_erased=True,
            )
        mail = confirmation_mail(
            self.settings,
            self.web,
            to=subscriber.email,
            lang=subscriber.lang,
            confirm_url=self.confirm_url(subscriber),
            now=now,
        )
        return SignUpOutcome("confirmation sent", mail)

    def send(self, mail: EmailMessage) -> None:
        """Hand a mail to the transport; a failure is logged, the visitor may simply try again."""
        try:
            self.mailer(mail)
        except Exception:
            log.exception("could not send the sign-up mail")

    # -- confirm -------------------------------------------------------------------------------

    def pending_for(self, token: str) -> Subscriber:
        """The pending subscriber a confirm link is for; :class:`LinkError` otherwise."""
        subject = _subject_of(token)
        subscriber = self.store.get(subject) if subject else None
        if subscriber is None:
            raise LinkError("invalid", "no such subscription (or a forged link)")
        try:
            tokens.verify(
                self.secret,
                token,
                tokens.CONFIRM_PURPOSE,
                now=self.now(),
                bind=timestamp(subscriber.consent_at),
            )
        except tokens.TokenExpired as exc:
            raise LinkError("expired", str(exc), lang=subscriber.lang) from None
        except tokens.TokenError as exc:
            raise LinkError("invalid", str(exc)) from None
        if subscriber.status != "pending":
            raise LinkError("used", f"subscription is {subscriber.status}", lang=subscriber.lang)
        return subscriber

    def confirm(self, token: str) -> Subscriber:
        """Activate the subscription of a valid, unused confirm link."""
        subscriber = self.pending_for(token)
        try:
            return self.store.confirm(
                subscriber.uid,
                now=self.now(),
                source=subscriber.consent_source,
                page=self.web.url("confirm/"),
            )
        except SubscriberError as exc:  # erased or unsubscribed in between
            raise LinkError("used", str(exc)) from None

    # -- unsubscribe ---------------------------------------------------------------------------

    def unsubscribe_subject(self, token: str) -> Subscriber | None:
        """The subscriber of a genuine unsubscribe link, or None if it no longer exists."""
        try:
            uid = tokens.verify_unsubscribe_token(self.secret, token, self.list_id, now=self.now())
        except tokens.TokenError as exc:
            raise LinkError("invalid", str(exc)) from None
        return self.store.get(uid)

    def unsubscribe(self, token: str, *, source: str) -> Subscriber | None:
        """Stop all mail for a genuine link at once; idempotent; None if already erased."""
        subscriber = self.unsubscribe_subject(token)
        if subscriber is None:
            return None
        try:
            return self.store.unsubscribe(
                subscriber.uid, now=self.now(), source=source, page=self.web.url("unsubscribe/")
            )
        except SubscriberError:  # erased in between: nothing left to mail
            return None

    # -- preferences ---------------------------------------------------------------------------

    def preferences_subject(self, token: str) -> Subscriber:
        try:
            uid = tokens.verify(self.secret, token, tokens.PREFERENCES_PURPOSE, now=self.now()).subject
        except tokens.TokenError as exc:
            raise LinkError("invalid", str(exc)) from None
        subscriber = self.store.get(uid)
        if subscriber is None:
            raise LinkError("gone", "the subscription was deleted")
        return subscriber

    def save_preferences(self, token: str, *, lang: str, targets: Sequence[str]) -> Subscriber:
        subscriber = self.preferences_subject(token)
        items: list[str] = []
        for value in targets:
            items.extend(value.replace(",", " ").split())
        if lang not in LANGUAGES:
            lang = subscriber.lang
        try:
            return self.store.set_preferences(
                subscriber.uid,
                now=self.now(),
                lang=lang,
                targets=items,
                source="form",
                page=self.web.url("preferences/"),
            )
        except SubscriberError as exc:
            if "target" in str(exc):
                raise InputError("invalid_targets", str(exc)) from None
            raise LinkError("gone", str(exc)) from None

    def export(self, token: str) -> dict:
        """Everything kept about the subscriber, consent history included (GDPR Art. 7 and 15)."""
        subscriber = self.preferences_subject(token)
        try:
            return self.store.export_record(subscriber.uid)
        except SubscriberError as exc:
            raise LinkError("gone", str(exc)) from None

    def erase(self, token: str) -> None:
        """Delete the subscriber; only a hash of the address stays, to suppress re-imports."""
        subscriber = self.preferences_subject(token)
        try:
            self.store.erase(subscriber.uid, now=self.now())
        except SubscriberError as exc:
            raise LinkError("gone", str(exc)) from None


def _subject_of(token: str) -> str | None:
    if not isinstance(token, str) or len(token) > 200 or "." not in token:
        return None
    subject = token.split(".", 1)[0]
    return subject if subject and len(subject) <= 128 else None
