"""What a transport's ``send`` raises instead of returning: the outcomes the send log records.

A transport's ``send`` either returns (the message was accepted: for SMTP, the final reply to the
message data was 250), or raises one of these. They live apart from every transport so that the
send loop, the web service's mail hand-off and a new transport all speak the same outcomes:

- :class:`TemporaryFailure` — not delivered, try again later (4xx, a connection lost before the
  message data went out, twice);
- :class:`Ambiguous` (a kind of temporary failure) — the message went out and no final reply
  came: the receiver may or may not have it. The caller resends it at most once, with the same
  Message-ID;
- :class:`PermanentFailure` — refused for good for this recipient or message (5xx): never retry;
- :class:`TransportUnavailable` — nothing can be sent now and nothing of this message was handed
  over: the run stops instead of failing every recipient. ``transient`` says whether waiting may
  help (server down) or an operator must act (refused login, unwritable outbox).
"""

from __future__ import annotations


class DeliveryFailure(Exception):
    """``reason``: the same without the recipient's address, for grouping in a summary."""

    def __init__(self, message: str, code: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason or message


class TemporaryFailure(DeliveryFailure):
    pass


class PermanentFailure(DeliveryFailure):
    pass


class Ambiguous(TemporaryFailure):
    """The message data went out; no final reply arrived (connection lost, timeout)."""


class TransportUnavailable(Exception):
    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.transient = transient
