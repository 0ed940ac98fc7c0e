"""The two mails the subscription service sends: "confirm your subscription" and "you already subscribe".

Plain text only (a link and three sentences need no HTML), UTF-8, marked ``Auto-Submitted:
auto-generated`` (RFC 3834) so auto-responders stay quiet. Bodies come from templates in
``templates/web/``; no per-recipient data but the address and the link.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from pipeline.config.site import Settings
from pipeline.config.web import WebConfig
from pipeline.web.texts import texts


def _message(
    settings: Settings, to: str, subject: str, body: str, *, lang: str, now: datetime, key: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(settings.sender_name, addr_spec=settings.sender_email)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    digest = hashlib.sha256(f"{key}\n{now.isoformat()}".encode()).hexdigest()[:24]
    message["Message-ID"] = f"<web.{digest}@{settings.sender_email.rsplit('@', 1)[1]}>"
    message["Content-Language"] = lang
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    return message


def confirmation_mail(
    settings: Settings, web: WebConfig, *, to: str, lang: str, confirm_url: str, now: datetime
) -> EmailMessage:
    """The double opt-in mail with the confirmation link."""
    T = texts(lang)
    body = settings.env.get_template("web/confirm_mail.txt").render(
        T=T, settings=settings, web=web, confirm_url=confirm_url
    )
    subject = T["mail_confirm_subject"].format(site=settings.title)
    return _message(settings, to, subject, body, lang=lang, now=now, key=confirm_url)


def already_subscribed_mail(
    settings: Settings, web: WebConfig, *, to: str, lang: str, preferences_url: str, now: datetime
) -> EmailMessage:
    """Sent instead of a confirmation when an active subscriber signs up again (no enumeration)."""
    T = texts(lang)
    body = settings.env.get_template("web/known_mail.txt").render(
        T=T, settings=settings, web=web, preferences_url=preferences_url
    )
    subject = T["mail_known_subject"].format(site=settings.title)
    return _message(settings, to, subject, body, lang=lang, now=now, key=preferences_url)
