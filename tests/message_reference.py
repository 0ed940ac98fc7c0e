"""The reference for :class:`pipeline.delivery.message.MessageTemplate`: the same message built the
plain way, one :class:`email.message.EmailMessage` per recipient.

Too slow to send 100,000 of (milliseconds each), so it lives with the tests that compare the fast
path's bytes against it, header by header and part by part (test_message, test_newsletter_look).
"""

from __future__ import annotations

import html
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from pipeline.config.mail import NewsletterConfig
from pipeline.config.site import Settings
from pipeline.delivery.message import ONE_CLICK, feedback_id, list_unsubscribe, message_id
from pipeline.delivery.tokens import preferences_token, unsubscribe_token
from pipeline.outputs.newsletter.render import SLOTS, Edition

# The slow path must not fold List-Unsubscribe: the email package would turn a long URL into an
# RFC 2047 encoded-word, which no mail client reads as a URL. 998 is RFC 5322's hard limit.
SLOW_POLICY = SMTP.clone(max_line_length=998)


def build_slow(
    edition: Edition,
    settings: Settings,
    config: NewsletterConfig,
    secret: bytes,
    date: datetime,
    uid: str,
    address: str,
) -> bytes:
    """The same message the plain way (EmailMessage per recipient): the reference for the fast path."""
    unsubscribe_url = config.unsubscribe_url + unsubscribe_token(secret, uid, config.list_id)
    preferences_url = config.preferences_url + preferences_token(secret, uid)
    values = {"address": address, "unsubscribe": unsubscribe_url, "preferences": preferences_url}
    text, body = edition.text, edition.html
    for name, marker in SLOTS.items():
        text = text.replace(marker, values[name])
        body = body.replace(marker, html.escape(values[name]) if name == "address" else values[name])
    msg = EmailMessage(policy=SLOW_POLICY)
    local, domain = settings.sender_email.rsplit("@", 1)
    msg["From"] = Address(settings.sender_name, local, domain)
    msg["Subject"] = edition.subject
    msg["Date"] = format_datetime(date)
    msg["List-Id"] = f"{config.list_name} <{config.list_id}>"
    msg["Feedback-ID"] = feedback_id(edition, config)
    msg["To"] = address
    msg["Message-ID"] = message_id(edition.number, uid, config)
    msg["List-Unsubscribe"] = list_unsubscribe(unsubscribe_url, config)
    msg["List-Unsubscribe-Post"] = ONE_CLICK
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(body, subtype="html", cte="quoted-printable")
    msg["Content-Language"] = edition.lang  # after: set_content drops every Content-* header
    return msg.as_bytes()
