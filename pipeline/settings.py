"""Site settings: one TOML file (``site.toml``) with embedded defaults for every key.

The ``[site]`` table is validated here. Other tables (``[newsletter]``, ``[smtp]``, …) belong to
the module that uses them: each declares its keys with :func:`read_table`, so a new feature adds
settings without editing this file, and an unknown or mistyped key is still an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.tomlfile import read_toml

DEFAULT_SETTINGS_FILE = "site.toml"
REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = REPO_ROOT / "templates"


class SettingsError(Exception):
    """Invalid settings; ``problems`` lists every one as ``file: key: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# key -> (accepted types, default). The default is what the example site runs with.
SITE_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "title": ((str,), "Mål 17 – Genomförande och globalt partnerskap"),
    "description": (
        (str,),
        "Nyheter om kommuners och regioners arbete med Agenda 2030, mål 17: "
        "internationellt utvecklingssamarbete, kapacitetsutveckling och partnerskap.",
    ),
    "base_url": ((str,), "https://mal17.example.se/"),
    "language": ((str,), "sv"),
    "timezone": ((str,), "Europe/Stockholm"),
    "organisation": ((str,), "Sveriges Kommuner och Regioner"),
    "contact_email": ((str,), "agenda2030@example.se"),
    "sender_name": ((str,), "SKR Agenda 2030"),
    "sender_email": ((str,), "nyhetsbrev@example.se"),
    "feed_items": ((int,), 50),
    "snippet_items": ((int,), 10),
    "page_size": ((int,), 20),
    "websub_hub": ((str,), ""),
    "state_dir": ((str,), ".state"),
}

LANGUAGES = ("sv", "en")
# Tables besides [site], each validated by the feature that reads it (``read_table``). A feature
# adding a table adds its name here, so a misspelt table is an error rather than silently ignored.
TABLES = ("content", "newsletter", "smtp", "web")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Settings:
    title: str
    description: str
    base_url: str
    language: str
    timezone: str
    organisation: str
    contact_email: str
    sender_name: str
    sender_email: str
    feed_items: int
    snippet_items: int
    page_size: int
    websub_hub: str
    state_dir: Path
    source: str = "<defaults>"
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str = "") -> str:
        """Absolute URL of a site-relative path; the one place URLs are joined."""
        return self.base_url + path.lstrip("/")

    def with_overrides(self, **changes: Any) -> Settings:
        """Apply command-line overrides through the same validation as the file."""
        raw = {k: getattr(self, k) for k in SITE_SPEC}
        raw["state_dir"] = str(self.state_dir)
        raw.update({k: v for k, v in changes.items() if v is not None})
        return _validate_site(raw, self.source, self.sections, base_dir=None)


def read_table(
    settings: Settings, table: str, spec: Mapping[str, tuple[tuple[type, ...], Any]]
) -> dict[str, Any]:
    """Validate one optional table of the settings file against ``spec`` and fill in defaults."""
    raw = dict(settings.sections.get(table, {}))
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec:
            problems.append(f"{settings.source}: [{table}] {key}: unknown setting")
            continue
        types, _ = spec[key]
        if not _is_type(value, types):
            names = " or ".join(t.__name__ for t in types)
            problems.append(f"{settings.source}: [{table}] {key}: expected {names}, got {value!r}")
            continue
        values[key] = value
    if problems:
        raise SettingsError(problems)
    return {key: values.get(key, default) for key, (_, default) in spec.items()}


def load_settings(path: str | Path | None = None) -> Settings:
    """Load ``path``; with no path, ``./site.toml`` if present, else the embedded defaults."""
    if path is None:
        candidate = Path(DEFAULT_SETTINGS_FILE)
        if not candidate.exists():
            return _validate_site({}, "<defaults>", {}, base_dir=None)
        path = candidate
    path = Path(path)
    data = read_toml(path, "settings file", SettingsError)
    site = data.pop("site", {})
    if not isinstance(site, dict):
        raise SettingsError([f"{path}: 'site' must be a table"])
    sections = {}
    for name, table in data.items():
        if name not in TABLES:
            known = ", ".join(f"[{t}]" for t in ("site", *TABLES))
            raise SettingsError([f"{path}: [{name}]: unknown table (known: {known})"])
        if not isinstance(table, dict):
            raise SettingsError([f"{path}: {name}: expected a [{name}] table"])
        sections[name] = table
    return _validate_site(site, str(path), sections, base_dir=path.parent)


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _validate_site(
    raw: Mapping[str, Any],
    source: str,
    sections: Mapping[str, Mapping[str, Any]],
    base_dir: Path | None,
) -> Settings:
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SITE_SPEC:
            problems.append(f"{source}: [site] {key}: unknown setting")
        elif not _is_type(value, SITE_SPEC[key][0]):
            problems.append(
                f"{source}: [site] {key}: expected {SITE_SPEC[key][0][0].__name__}, got {value!r}"
            )
        else:
            values[key] = value
    merged = {key: values.get(key, default) for key, (_, default) in SITE_SPEC.items()}

    def bad(key: str, message: str) -> None:
        problems.append(f"{source}: [site] {key}: {message}")

    base = merged["base_url"]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        bad("base_url", f"must be an absolute http(s) URL such as https://example.se/, got {base!r}")
    elif not base.endswith("/"):
        merged["base_url"] = base + "/"
    if merged["language"] not in LANGUAGES:
        bad("language", f"must be one of {', '.join(LANGUAGES)}, got {merged['language']!r}")
    try:
        ZoneInfo(merged["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        bad("timezone", f"unknown time zone {merged['timezone']!r} (use e.g. Europe/Stockholm)")
    for key in ("contact_email", "sender_email"):
        if not _EMAIL.match(merged[key]):
            bad(key, f"not an email address: {merged[key]!r}")
    for key in ("feed_items", "snippet_items", "page_size"):
        if not 1 <= merged[key] <= 10_000:
            bad(key, f"must be between 1 and 10000, got {merged[key]}")
    hub = merged["websub_hub"]
    if hub and urlsplit(hub).scheme not in ("http", "https"):
        bad("websub_hub", f"must be an http(s) URL or empty, got {hub!r}")
    for key in ("title", "organisation", "sender_name"):
        if not merged[key].strip():
            bad(key, "must not be empty")
    if problems:
        raise SettingsError(problems)
    state_dir = Path(merged.pop("state_dir"))
    if base_dir is not None and not state_dir.is_absolute():
        state_dir = base_dir / state_dir
    return Settings(**merged, state_dir=state_dir, source=source, sections=dict(sections))


def default_settings(**overrides: Any) -> Settings:
    """The embedded defaults, optionally changed; used by tests and by the example build."""
    settings = _validate_site({}, "<defaults>", {}, base_dir=None)
    return settings.with_overrides(**overrides) if overrides else settings


__all__ = [
    "LANGUAGES",
    "Settings",
    "SettingsError",
    "TEMPLATES_DIR",
    "default_settings",
    "load_settings",
    "read_table",
]
