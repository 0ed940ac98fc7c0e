"""Handing the service's sign-up mails to the newsletter's configured transport.

``[newsletter] transport`` decides, as for issues, through the same registry
(:data:`pipeline.delivery.transports.KINDS`) and the same transports ``send`` uses, DKIM-signed
the same way when a key is configured. They go out on the ``web`` channel: the outbox writes them
into ``OUTBOX/web/``, apart from the issues, so the two are never confused; SMTP sends them with
the ``[smtp]`` settings and credentials from the environment. One connection per mail: sign-ups
are rare, and a held connection would time out.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from pipeline.config.site import Settings
from pipeline.delivery.message import DkimSigner, Prepared
from pipeline.delivery.transports import WEB, transport_kind
from pipeline.web.service import Mailer


def transport_mailer(settings: Settings) -> Mailer:
    """A function that delivers one message through the configured transport (raises on failure).

    The transport's settings tables are checked here, when the service starts, not at the first
    sign-up.
    """
    config = settings.newsletter
    kind = transport_kind(config.transport)
    kind.check(settings)
    signer = DkimSigner.from_config(config)

    def deliver(message: EmailMessage) -> None:
        data = message.as_bytes(policy=SMTP)
        prepared = Prepared(message_id=message["Message-ID"], recipient=str(message["To"]), data=data)
        if signer is not None:
            prepared = signer.sign_prepared(prepared)
        transport = kind.make(settings, channel=WEB)
        try:
            transport.send(prepared, config.bounce_address)
        finally:
            transport.close()

    return deliver
