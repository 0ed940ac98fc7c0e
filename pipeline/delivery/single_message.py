"""``send --to ADDRESS``: one test message of an issue, outside the send log.

A test message is for looking at the issue in a real mail client before the send: it goes to one
address the operator names, with a Message-ID of its own (so it never collides with a reader's
copy), and leaves no trace in the send log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.config.site import Settings
from pipeline.delivery.editions import EditionTemplates
from pipeline.delivery.issues import Issue
from pipeline.delivery.message import DkimSigner, test_message_id
from pipeline.delivery.send_errors import SendError
from pipeline.delivery.transports import PermanentFailure, TemporaryFailure, TransportUnavailable
from pipeline.stores.subscribers import Subscriber, normalize_email


def send_test_message(
    to: str,
    issue: Issue,
    settings: Settings,
    transport: Any,
    signer: DkimSigner | None,
    secret: bytes,
    now: datetime,
    lang: str,
) -> None:
    """Send ``issue`` in ``lang`` to ``to`` through ``transport``; :class:`SendError` if it did not go."""
    config = settings.newsletter
    address = normalize_email(to)
    fake = Subscriber(
        id=0,
        uid="test-message",
        email=address,
        lang=lang,
        targets=(),
        status="active",
        created_at=now,
        updated_at=now,
        confirmed_at=now,
        unsubscribed_at=None,
        consent_source="cli",
        consent_at=now,
        consent_page=None,
    )
    template = EditionTemplates(issue, settings, config, secret, now).for_subscriber(fake)
    assert template is not None  # no target filter: every issue has something for this reader
    prepared = template.personalise(
        fake.uid, address, msgid=test_message_id(issue.number, address, now, config)
    )
    if signer is not None:
        prepared = signer.sign_prepared(prepared)
    try:
        transport.send(prepared, config.bounce_address)
    except (TemporaryFailure, PermanentFailure, TransportUnavailable) as exc:
        raise SendError(f"the test message to {address} was not sent: {exc}") from None


__all__ = ["send_test_message"]
