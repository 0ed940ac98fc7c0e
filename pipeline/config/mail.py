"""The ``[newsletter]`` and ``[smtp]`` settings tables, validated once into typed values.

Declared here with :func:`pipeline.config.site.read_table` so the site settings module needs no
newsletter knowledge; documented in ``site.toml``. Passwords and the signing secret are never in
the file: only the names of the environment variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.config.site import Settings
from pipeline.config.tables import SettingsError, read_table
from pipeline.config.taxonomy import load_taxonomy
from pipeline.delivery.transports import transport_names  # the registry: light, imports no transport
from pipeline.outputs.newsletter.subject import check_template

DEFAULT_INTRO = {
    "sv": "Här är de senaste nyheterna om kommuners och regioners arbete med Agenda 2030, mål 17.",
    "en": "Here are the latest updates on how Swedish municipalities and regions work with "
    "Agenda 2030, goal 17.",
}
# The subject line per language; fields: {week} (ISO week of the issue), {number}, {count}, {title}
# (the newest update in the edition's language). Rendered by pipeline.outputs.newsletter.subject.
DEFAULT_SUBJECT = {
    "sv": "Mål 17 – nyheter vecka {week}: {title}",
    "en": "Goal 17 – news week {week}: {title}",
}
# Order of the newsletter's sections, and which group wins when an update's targets are spread
# evenly over several groups: the ways municipalities work first, the narrower topics after.
DEFAULT_GROUP_ORDER = [
    "capacity-building",
    "partnerships",
    "finance",
    "policy-coherence",
    "data",
    "trade",
    "technology",
]

NEWSLETTER_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "state_dir": ((str,), ""),
    "outbox": ((str,), ""),
    "transport": ((str,), "outbox"),
    "intro_sv": ((str,), DEFAULT_INTRO["sv"]),
    "intro_en": ((str,), DEFAULT_INTRO["en"]),
    "logo": ((str,), ""),
    "logo_width": ((int,), 160),
    "subject_sv": ((str,), DEFAULT_SUBJECT["sv"]),
    "subject_en": ((str,), DEFAULT_SUBJECT["en"]),
    "group_order": ((list,), DEFAULT_GROUP_ORDER),
    "postal_address": ((str,), "Sveriges Kommuner och Regioner, 118 82 Stockholm"),
    "list_id": ((str,), ""),
    "unsubscribe_url": ((str,), ""),
    "preferences_url": ((str,), ""),
    "unsubscribe_mailto": ((str,), ""),
    "bounce_address": ((str,), ""),
    "example_recipient": ((str,), "prenumerant@example.com"),
    "first_issue_days": ((int,), 30),
    "size_warn_kb": ((int,), 90),
    "size_limit_kb": ((int,), 102),
    "dkim_selector": ((str,), ""),
    "dkim_key_file": ((str,), ""),
    "dkim_domain": ((str,), ""),
}

SMTP_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "host": ((str,), "localhost"),
    "port": ((int,), 587),
    "security": ((str,), "starttls"),
    "rate": ((int, float), 10.0),
    "timeout": ((int, float), 30.0),
    "helo": ((str,), ""),
    "ca_file": ((str,), ""),
    "user_env": ((str,), "GOAL17_SMTP_USER"),
    "password_env": ((str,), "GOAL17_SMTP_PASSWORD"),
}

SECURITY_MODES = ("starttls", "tls", "none")


@dataclass(frozen=True)
class NewsletterConfig:
    state_dir: Path
    outbox: Path
    transport: str
    intro: dict[str, str]
    logo: str  # absolute URL or ""
    logo_width: int
    subject: dict[str, str]  # per language, checked by pipeline.outputs.newsletter.subject.check_template
    group_order: tuple[str, ...]  # every group id, each once
    postal_address: str  # shown in every footer ("" = none)
    list_id: str  # the id inside List-Id's angle brackets
    list_name: str
    unsubscribe_url: str  # base URL; the token is appended
    preferences_url: str
    unsubscribe_mailto: str
    bounce_address: str
    sender_domain: str
    example_recipient: str
    first_issue_days: int
    size_warn_bytes: int
    size_limit_bytes: int
    dkim_selector: str
    dkim_key_file: Path | None
    dkim_domain: str


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    rate: float  # messages per second, 0 = unlimited
    timeout: float
    helo: str
    ca_file: Path | None
    user_env: str
    password_env: str


def _base_dir(settings: Settings) -> Path:
    return Path(settings.source).parent if settings.source != "<defaults>" else Path.cwd()


def _path(settings: Settings, value: str, default: Path) -> Path:
    if not value:
        return default
    path = Path(value)
    return path if path.is_absolute() else _base_dir(settings) / path


def _base_url(value: str, default: str) -> str:
    url = value or default
    return url if url.endswith("/") else url + "/"


def is_one_click_url(url: str) -> bool:
    """What a link in real mail may be: https:// (RFC 8058; Gmail and Yahoo require it), or
    http:// on the loopback address for tests against a local service."""
    return urlsplit(url).scheme == "https" or url.startswith("http://127.")


def newsletter_config(settings: Settings) -> NewsletterConfig:
    """Validated ``[newsletter]`` table; raises :class:`SettingsError` naming each bad key."""
    problems: list[str] = []
    raw = read_table(settings, "newsletter", NEWSLETTER_SPEC, problems)

    def bad(key: str, message: str) -> None:
        problems.append(settings.problem("newsletter", key, message))

    if raw["transport"] not in transport_names():
        bad("transport", f"must be one of {', '.join(transport_names())}, got {raw['transport']!r}")
    for key in ("unsubscribe_url", "preferences_url"):
        if raw[key] and not is_one_click_url(raw[key]):
            bad(key, f"must be an https:// URL (RFC 8058 one-click unsubscribe), got {raw[key]!r}")
    logo = raw["logo"]
    if logo and not urlsplit(logo).scheme:
        logo = settings.url(logo)
    for key in ("unsubscribe_mailto", "bounce_address", "example_recipient"):
        if raw[key] and "@" not in raw[key]:
            bad(key, f"not an email address: {raw[key]!r}")
    for lang in ("sv", "en"):
        problem = check_template(raw[f"subject_{lang}"])
        if problem:
            bad(f"subject_{lang}", problem)
    known_groups = [group.id for group in load_taxonomy().groups]
    order = raw["group_order"]
    unknown = [g for g in order if not isinstance(g, str) or g not in known_groups]
    if unknown or len(set(order)) != len(order):
        bad("group_order", f"list each of {', '.join(known_groups)} at most once, got {order!r}")
    if raw["first_issue_days"] < 1:
        bad("first_issue_days", "must be at least 1")
    if not 1 <= raw["size_warn_kb"] <= raw["size_limit_kb"]:
        bad("size_warn_kb", "must be at least 1 and not above size_limit_kb")
    if bool(raw["dkim_selector"]) != bool(raw["dkim_key_file"]):
        bad("dkim_selector", "set both dkim_selector and dkim_key_file to sign, or neither")
    # One rule for where state lives: [site] state_dir (or [state] database_url). The key is still
    # read so an older site.toml that names the same folder keeps working; another folder would
    # split the list from its send log, so it is refused.
    if raw["state_dir"] and _path(settings, raw["state_dir"], settings.state_dir) != settings.state_dir:
        bad(
            "state_dir",
            "is no longer used: all state lives in [site] state_dir (or [state] database_url); "
            "move the folder there and remove this line",
        )
    if problems:
        raise SettingsError(problems)
    sender_domain = settings.sender_email.rsplit("@", 1)[1].lower()
    state_dir = settings.state_dir
    return NewsletterConfig(
        state_dir=state_dir,
        outbox=_path(settings, raw["outbox"], state_dir / "outbox"),
        transport=raw["transport"],
        intro={"sv": raw["intro_sv"], "en": raw["intro_en"]},
        logo=logo,
        logo_width=raw["logo_width"],
        subject={"sv": raw["subject_sv"], "en": raw["subject_en"]},
        group_order=tuple(order) + tuple(g for g in known_groups if g not in order),
        postal_address=" ".join(raw["postal_address"].split()),
        list_id=raw["list_id"] or f"newsletter.{settings.host}",
        list_name=settings.title,
        unsubscribe_url=_base_url(raw["unsubscribe_url"], settings.url("unsubscribe/")),
        preferences_url=_base_url(raw["preferences_url"], settings.url("preferences/")),
        unsubscribe_mailto=raw["unsubscribe_mailto"] or settings.sender_email,
        bounce_address=raw["bounce_address"] or settings.sender_email,
        sender_domain=sender_domain,
        example_recipient=raw["example_recipient"],
        first_issue_days=raw["first_issue_days"],
        size_warn_bytes=raw["size_warn_kb"] * 1024,
        size_limit_bytes=raw["size_limit_kb"] * 1024,
        dkim_selector=raw["dkim_selector"],
        dkim_key_file=_path(settings, raw["dkim_key_file"], Path()) if raw["dkim_key_file"] else None,
        dkim_domain=raw["dkim_domain"] or sender_domain,
    )


def smtp_config(settings: Settings) -> SmtpConfig:
    """Validated ``[smtp]`` table."""
    problems: list[str] = []
    raw = read_table(settings, "smtp", SMTP_SPEC, problems)

    def bad(key: str, message: str) -> None:
        problems.append(settings.problem("smtp", key, message))

    if raw["security"] not in SECURITY_MODES:
        bad("security", f"must be one of {', '.join(SECURITY_MODES)}, got {raw['security']!r}")
    if not 1 <= raw["port"] <= 65535:
        bad("port", f"must be 1–65535, got {raw['port']}")
    if raw["rate"] < 0:
        bad("rate", f"must be 0 (unlimited) or more, got {raw['rate']}")
    if raw["timeout"] <= 0:
        bad("timeout", f"must be more than 0 seconds, got {raw['timeout']}")
    if problems:
        raise SettingsError(problems)
    return SmtpConfig(
        host=raw["host"],
        port=raw["port"],
        security=raw["security"],
        rate=float(raw["rate"]),
        timeout=float(raw["timeout"]),
        helo=raw["helo"],
        ca_file=_path(settings, raw["ca_file"], Path()) if raw["ca_file"] else None,
        user_env=raw["user_env"],
        password_env=raw["password_env"],
    )
