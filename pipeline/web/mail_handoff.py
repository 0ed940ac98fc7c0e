"""Handing the service's sign-up mails to the newsletter's configured transport.

``[newsletter] transport`` decides, as for issues: ``outbox`` (the default) writes each message as
an ``.eml`` file into ``OUTBOX/web/`` (apart from the issues, so the two are never confused),
``smtp`` sends it with the ``[smtp]`` settings and credentials from the environment — the same
:mod:`pipeline.delivery.transports` classes ``send`` uses, DKIM-signed the same way when a key is
configured. One connection per mail: sign-ups are rare, and a held connection would time out.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from pipeline.config.site import Settings
from pipeline.delivery.message import DkimSigner, Prepared
from pipeline.delivery.transports import OutboxTransport, SmtpTransport
from pipeline.web.service import Mailer


def transport_mailer(settings: Settings) -> Mailer:
    """A function that delivers one message through the configured transport (raises on failure)."""
    config = settings.newsletter
    smtp = settings.smtp if config.transport == "smtp" else None
    signer = DkimSigner.from_config(config)

    def deliver(message: EmailMessage) -> None:
        data = message.as_bytes(policy=SMTP)
        prepared = Prepared(message_id=message["Message-ID"], recipient=str(message["To"]), data=data)
        if signer is not None:
            prepared = signer.sign_prepared(prepared)
        transport = OutboxTransport(config.outbox / "web") if smtp is None else SmtpTransport(smtp)
        try:
            transport.send(prepared, config.bounce_address)
        finally:
            transport.close()

    return deliver
