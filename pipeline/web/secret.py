"""The signing secret of a running subscription service, and when the public one may stand in.

Every confirm, unsubscribe and preferences link the service makes or accepts is an HMAC with
``GOAL17_SECRET``. The development secret is in the source code, so a service running on it lets
anyone forge a link that opens any subscriber's data. Hence, for ``web`` (production):

* without ``GOAL17_SECRET`` it does not start, unless started with ``--dev``, which uses the
  development secret, only while mail goes to the outbox, and says so on every start;
* a secret shorter than :data:`MIN_SERVICE_SECRET_BYTES` bytes, with fewer than
  ``tokens.MIN_DISTINCT_BYTES`` different bytes, or equal to the development secret is refused,
  ``--dev`` or not: a weak real secret is a mistake to report, not to work around. The rule is
  :func:`pipeline.delivery.tokens.check_strength`, the one ``send`` applies too.

``serve`` (a preview on this machine) keeps the outbox rule of :func:`tokens.secret_from_env`
and gets the same warning when it falls back; a secret it is given must be as strong as
``web``'s, since both open the same subscriber store.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.delivery.tokens import (
    DEVELOPMENT_SECRET,
    MAKE_ONE,
    MIN_SECRET_LENGTH,
    SECRET_ENV,
    SecretMissing,
    check_strength,
    secret_from_env,
)
from pipeline.delivery.transports import reaches_readers

MIN_SERVICE_SECRET_BYTES = MIN_SECRET_LENGTH  # the same rule as send (tokens.check_strength)
DEVELOPMENT_WARNING = (
    "warning: the subscription service signs its links with the public development secret: anyone "
    "who can reach it can forge a link to any subscriber's data. For this machine only; set "
    f"{SECRET_ENV} for anything else."
)


@dataclass(frozen=True)
class ServiceSecret:
    value: bytes
    warning: str | None  # to print on start (every start), or None

    @property
    def development(self) -> bool:
        return self.value == DEVELOPMENT_SECRET


def service_secret(
    environ: Mapping[str, str] | None = None, *, development: bool, transport: str
) -> ServiceSecret:
    """The secret ``web`` runs with (``development``: started with ``--dev``); raises
    :class:`SecretMissing` with a one-line reason when it must not start."""
    env = os.environ if environ is None else environ
    raw = env.get(SECRET_ENV, "")
    if raw:
        value = raw.encode("utf-8")
        check_strength(value)
        note = (
            f"warning: --dev has no effect: {SECRET_ENV} is set and signs the links" if development else None
        )
        return ServiceSecret(value, note)
    if not development:
        raise SecretMissing(
            f"{SECRET_ENV} is not set: the subscription service signs confirm, unsubscribe and "
            f"preferences links with it. Set it to at least {MIN_SERVICE_SECRET_BYTES} random bytes, "
            f"the value send uses ({MAKE_ONE}), or start with --dev on your own machine"
        )
    if reaches_readers(transport):
        raise SecretMissing(
            f"--dev signs links with the public development secret, which may only sign mail written "
            f'to the outbox, but [newsletter] transport = "{transport}": set {SECRET_ENV}'
        )
    return ServiceSecret(DEVELOPMENT_SECRET, DEVELOPMENT_WARNING)


def preview_secret(environ: Mapping[str, str] | None = None, *, transport: str) -> ServiceSecret:
    """The secret for ``serve``: ``GOAL17_SECRET`` (as strong as :func:`check_strength` asks), or
    the development one while mail goes to the outbox (with :data:`DEVELOPMENT_WARNING`)."""
    secret = secret_from_env(environ, allow_development=not reaches_readers(transport))
    if secret.development:
        return ServiceSecret(secret.value, DEVELOPMENT_WARNING)
    check_strength(secret.value)  # the preview opens the same subscriber store as web
    return ServiceSecret(secret.value, None)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a ``--host`` value) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
