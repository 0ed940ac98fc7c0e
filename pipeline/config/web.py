"""The ``[web]`` settings table: where the subscription service lives and how it defends itself.

Declared with :func:`pipeline.config.site.read_table` like every feature table, documented in
``site.toml``. The signing secret is not here: it is ``GOAL17_SECRET`` in the environment, the
same one the newsletter signs its unsubscribe links with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pipeline.config.site import Settings
from pipeline.config.tables import SettingsError, read_table
from pipeline.web.origins import allows, parse_origin

WEB_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "public_url": ((str,), ""),
    "token_days": ((int,), 7),
    "per_address_per_day": ((int,), 3),
    "per_client_per_hour": ((int,), 20),
    "allowed_origins": ((list,), ["*"]),
    "max_body_bytes": ((int,), 16_384),
    "trust_forwarded_for": ((bool,), False),
    "privacy_url": ((str,), ""),
}


@dataclass(frozen=True)
class WebConfig:
    public_url: str  # absolute, ends with "/"; links in mails and pages are made against it
    token_days: int  # lifetime of a confirmation link
    per_address_per_day: int  # confirmation mails to one address per 24 hours
    per_client_per_hour: int  # sign-up requests from one client address per hour
    allowed_origins: tuple[str, ...]  # CORS for POST /subscribe; "*" = any
    max_body_bytes: int
    trust_forwarded_for: bool  # behind a reverse proxy: the client is the last X-Forwarded-For hop
    privacy_url: str  # page describing how personal data is handled ("" = none linked)

    def url(self, path: str = "") -> str:
        return self.public_url + path.lstrip("/")

    def origin_allowed(self, origin: str) -> bool:
        """Whether a partner page with this ``Origin`` may sign people up (never ``null``)."""
        return allows(self.allowed_origins, parse_origin(origin))


def web_config(settings: Settings) -> WebConfig:
    """Validated ``[web]`` table; raises :class:`SettingsError` naming each bad key."""
    problems: list[str] = []
    raw = read_table(settings, "web", WEB_SPEC, problems)

    def bad(key: str, message: str) -> None:
        problems.append(settings.problem("web", key, message))

    public_url = raw["public_url"] or settings.base_url
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        bad("public_url", f"must be an absolute http(s) URL such as https://example.se/, got {public_url!r}")
    if not public_url.endswith("/"):
        public_url += "/"
    if not 1 <= raw["token_days"] <= 365:
        bad("token_days", f"must be between 1 and 365, got {raw['token_days']}")
    for key in ("per_address_per_day", "per_client_per_hour"):
        if not 1 <= raw[key] <= 1_000_000:
            bad(key, f"must be between 1 and 1000000, got {raw[key]}")
    if not 1024 <= raw["max_body_bytes"] <= 1_048_576:
        bad("max_body_bytes", f"must be between 1024 and 1048576, got {raw['max_body_bytes']}")
    origins = raw["allowed_origins"]
    for origin in origins:
        if not isinstance(origin, str):
            bad("allowed_origins", f"expected a list of strings, got {origin!r}")
        elif origin != "*" and not _is_origin(origin):
            bad("allowed_origins", f"{origin!r} is not an origin like https://partner.example (no path)")
    privacy = raw["privacy_url"]
    if privacy and urlsplit(privacy).scheme not in ("http", "https"):
        bad("privacy_url", f"must be an http(s) URL or empty, got {privacy!r}")
    if problems:
        raise SettingsError(problems)
    return WebConfig(
        public_url=public_url,
        token_days=raw["token_days"],
        per_address_per_day=raw["per_address_per_day"],
        per_client_per_hour=raw["per_client_per_hour"],
        allowed_origins=tuple(origins),
        max_body_bytes=raw["max_body_bytes"],
        trust_forwarded_for=raw["trust_forwarded_for"],
        privacy_url=privacy,
    )


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and parts.path == ""
        and not parts.query
        and not parts.fragment
    )
