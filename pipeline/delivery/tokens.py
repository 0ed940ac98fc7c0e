"""Signed, URL-safe tokens: unsubscribe links in every message, and confirm/preferences links.

A token is ``SUBJECT.MAC`` or ``SUBJECT.EXPIRY.MAC``: the subject (a subscriber's public ``uid``)
in clear, an optional expiry (Unix seconds, base 36) and a truncated HMAC-SHA256 over the purpose,
subject, expiry and an optional *binding*. Nothing secret is in the token and nothing needs to be
stored to check it. The purpose (``"unsubscribe:<list id>"``, ``"confirm"``, ``"preferences"``)
is part of the MAC, so a token made for one purpose is refused for another.

*Binding* makes a token single-use without storing it: pass a value that changes when the token is
used (e.g. the subscriber's status and its timestamp) to :func:`sign` and again to :func:`verify`;
once the state changed, the old token no longer verifies.

The secret comes from the environment (``GOAL17_SECRET``). Sending for real without it is an error;
the outbox (local development) may fall back to a fixed, publicly known development secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

SECRET_ENV = "GOAL17_SECRET"
# Publicly known: tokens made with it protect nothing. Only for the outbox and archive samples.
DEVELOPMENT_SECRET = b"goal17-development-secret-not-for-real-mail"
MIN_SECRET_LENGTH = 32  # bytes; one rule for send, serve and web (a forged token opens a subscriber's data)
MIN_DISTINCT_BYTES = 10
MAKE_ONE = "export GOAL17_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
MAC_BYTES = 15  # 120 bits; 20 characters in base64url
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,128})(?:\.([0-9a-z]{1,13}))?\.([A-Za-z0-9_-]{20})$")


class SecretMissing(Exception):
    """No usable secret for sending real mail."""


class TokenError(ValueError):
    """A token that must be refused (a web service answers 4xx)."""


class TokenInvalid(TokenError):
    """Malformed, truncated, forged, or made for another purpose or state."""


class TokenExpired(TokenError):
    """Correctly signed but past its expiry."""


@dataclass(frozen=True)
class Secret:
    value: bytes
    development: bool  # True: the public development secret, only fit for the outbox


def secret_from_env(environ: Mapping[str, str] | None = None, *, allow_development: bool) -> Secret:
    """Read ``GOAL17_SECRET``; without it, the development secret if allowed, else :class:`SecretMissing`."""
    env = os.environ if environ is None else environ
    raw = env.get(SECRET_ENV, "")
    if raw:
        check_strength(raw.encode("utf-8"))
        return Secret(raw.encode("utf-8"), development=False)
    if allow_development:
        return Secret(DEVELOPMENT_SECRET, development=True)
    raise SecretMissing(
        f"{SECRET_ENV} is not set: it signs the unsubscribe links of real mail. Set it to at least "
        f"{MIN_SECRET_LENGTH} random characters (the same value the subscription service uses), e.g. "
        "export GOAL17_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    )


def check_strength(value: bytes) -> None:
    """Refuse a secret that is public, short or repetitive (:class:`SecretMissing`, one line)."""
    if value == DEVELOPMENT_SECRET:
        raise SecretMissing(
            f"{SECRET_ENV} is the public development secret from the source code; set a random one: {MAKE_ONE}"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretMissing(
            f"{SECRET_ENV} is too short ({len(value)} bytes); use at least {MIN_SECRET_LENGTH} random "
            f"bytes: {MAKE_ONE}"
        )
    if len(set(value)) < MIN_DISTINCT_BYTES:
        raise SecretMissing(
            f"{SECRET_ENV} repeats too few characters ({len(set(value))} different) to be random; "
            f"use: {MAKE_ONE}"
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, purpose: str, subject: str, expiry: str, bind: str) -> str:
    message = f"{purpose}\n{subject}\n{expiry}\n{bind}".encode()
    return _b64(hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES])


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def sign(
    secret: bytes, purpose: str, subject: str, *, expires: datetime | None = None, bind: str = ""
) -> str:
    """A token for ``subject`` (letters, digits, ``-``, ``_``) usable only for ``purpose``."""
    if not _SUBJECT.match(subject):
        raise ValueError(f"token subject must be 1–128 URL-safe characters, got {subject!r}")
    if expires is None:
        return f"{subject}.{_mac(secret, purpose, subject, '', bind)}"
    if expires.tzinfo is None:
        raise ValueError("expires must be an aware datetime")
    expiry = _base36(int(expires.timestamp()))
    return f"{subject}.{expiry}.{_mac(secret, purpose, subject, expiry, bind)}"


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    expires: datetime | None


def verify(secret: bytes, token: str, purpose: str, *, now: datetime, bind: str = "") -> VerifiedToken:
    """The token's subject if it is genuine, for ``purpose`` and ``bind``, and not expired at ``now``.

    Raises :class:`TokenInvalid` or :class:`TokenExpired`. Comparison is constant-time.
    """
    match = _TOKEN.match(token) if isinstance(token, str) and len(token) <= 200 else None
    if not match:
        raise TokenInvalid("malformed token")
    subject, expiry, mac = match.group(1), match.group(2) or "", match.group(3)
    expected = _mac(secret, purpose, subject, expiry, bind)
    if not hmac.compare_digest(expected, mac):
        raise TokenInvalid("token signature does not match")
    expires = None
    if expiry:
        expires = datetime.fromtimestamp(int(expiry, 36), UTC)
        if now >= expires:
            raise TokenExpired(f"token expired at {expires.isoformat()}")
    return VerifiedToken(subject=subject, expires=expires)


def unsubscribe_purpose(list_id: str) -> str:
    return f"unsubscribe:{list_id}"


def unsubscribe_token(secret: bytes, uid: str, list_id: str) -> str:
    """The token in ``List-Unsubscribe``: never expires (old messages must keep working, RFC 8058)."""
    return sign(secret, unsubscribe_purpose(list_id), uid)


def verify_unsubscribe_token(secret: bytes, token: str, list_id: str, *, now: datetime) -> str:
    """The subscriber ``uid`` an unsubscribe token was made for; raises :class:`TokenError`."""
    return verify(secret, token, unsubscribe_purpose(list_id), now=now).subject


PREFERENCES_PURPOSE = "preferences"
CONFIRM_PURPOSE = "confirm"


def preferences_token(secret: bytes, uid: str) -> str:
    """Link to the preferences page in every message (no expiry, like the unsubscribe link)."""
    return sign(secret, PREFERENCES_PURPOSE, uid)


__all__ = [
    "CONFIRM_PURPOSE",
    "DEVELOPMENT_SECRET",
    "PREFERENCES_PURPOSE",
    "SECRET_ENV",
    "Secret",
    "SecretMissing",
    "TokenError",
    "TokenExpired",
    "TokenInvalid",
    "VerifiedToken",
    "preferences_token",
    "secret_from_env",
    "sign",
    "unsubscribe_token",
    "verify",
    "verify_unsubscribe_token",
]
