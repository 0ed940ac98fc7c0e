"""Handing the service's sign-up mails to the newsletter's configured transport.

``[newsletter] transport`` decides, as for issues: ``outbox`` (the default) writes each message
as an ``.eml`` file into the outbox folder, ``smtp`` sends it with the ``[smtp]`` settings and the
credentials from the environment.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from pipeline.newsletter.config import SmtpConfig, newsletter_config, smtp_config
from pipeline.settings import Settings
from pipeline.web.service import Mailer


def transport_mailer(settings: Settings) -> Mailer:
    """A function that delivers one message through the configured transport."""
    config = newsletter_config(settings)
    if config.transport == "smtp":
        return _smtp_mailer(smtp_config(settings))
    return _outbox_mailer(config.outbox / "web")


def _outbox_mailer(folder: Path) -> Mailer:
    def deliver(message: EmailMessage) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").split("@", 1)[0] + ".eml"
        partial = folder / f".{name}.tmp"
        partial.write_bytes(message.as_bytes(policy=SMTP))
        partial.replace(folder / name)  # a reader of the outbox never sees half a message

    return deliver


def _smtp_mailer(config: SmtpConfig) -> Mailer:
    def deliver(message: EmailMessage) -> None:
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        helo = config.helo or None
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, local_hostname=helo, timeout=config.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, local_hostname=helo, timeout=config.timeout)
        with client:
            if config.security == "starttls":
                client.starttls(context=context)
            user, password = os.environ.get(config.user_env), os.environ.get(config.password_env)
            if user and password:
                client.login(user, password)
            client.send_message(message)

    return deliver
