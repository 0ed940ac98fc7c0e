"""Site settings: one TOML file (``site.toml``) with embedded defaults for every key.

The ``[site]`` table is validated here. Other tables (``[newsletter]``, ``[smtp]``, …) belong to
the module that uses them: each declares its keys with :func:`read_table`, so a new feature adds
settings without editing this file, and an unknown or mistyped key is still an error.

Every problem is one line that points at the file and line, like a compiler:
``site.toml:71: error: [newsletter] transport: must be one of outbox, smtp, got 'pigeon'``.
:func:`load_checked_settings` is what the edges (the command line, the scheduler) call: it
checks *every* table of the file, each feature's table by the validator registered in
:data:`TABLES`, and reports all problems at once, so a typo in ``[newsletter]`` stops a
``build`` too rather than waiting for Monday's ``send``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.config.tables import SettingsError, control_problems, is_type, line_number, located, read_table
from pipeline.config.tomlfile import problem, read_toml_document
from pipeline.reading import ids

if TYPE_CHECKING:
    import jinja2

    from pipeline.config.mail import NewsletterConfig, SmtpConfig
    from pipeline.config.state import StateConfig
    from pipeline.config.web import WebConfig

DEFAULT_SETTINGS_FILE = "site.toml"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_DIR.parent
# In a checkout pipeline/templates links to templates/; a wheel (pipx install) holds a copy there.
_PACKAGED_TEMPLATES = PACKAGE_DIR / "templates"
TEMPLATES_DIR = _PACKAGED_TEMPLATES.resolve() if _PACKAGED_TEMPLATES.is_dir() else REPO_ROOT / "templates"


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
    "scope_feed_items": ((int,), 20),
    "snippet_items": ((int,), 10),
    "page_size": ((int,), 50),
    "websub_hub": ((str,), ""),
    "state_dir": ((str,), ".state"),
    "id_authority": ((str,), ""),
    "templates_dir": ((str,), ""),
}

LANGUAGES = ("sv", "en")
# Tables besides [site], each with the Settings property that validates it once (raising
# SettingsError) and keeps the typed value. A feature adding a table adds it here and a property
# below, so a misspelt table is an error rather than silently ignored, and its values are
# checked on every command. The properties import their feature's parser only when first read.
TABLES: dict[str, str] = {
    "content": "content_limits",
    "newsletter": "newsletter",
    "smtp": "smtp",
    "state": "state",
    "web": "web",
}
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
    id_authority: str = ""  # "" = derived from the host, see pipeline.reading.ids
    # Items in a language, area or target feed: those have no archive pages (the site feed's
    # archive holds everything), so they need not hold the archive's page size.
    scope_feed_items: int = 20
    source: str = "<defaults>"
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Where each table and key is in the file (key path -> line), for messages that point there.
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, repr=False, compare=False)
    # The templates every output is rendered from ([site] templates_dir; "" = the built-in ones).
    templates_dir: Path = TEMPLATES_DIR

    # Each feature table is validated once per Settings, the first time it is asked for
    # (load_checked_settings asks for all of them at a command's start) and then kept: no
    # function below the edge re-reads or re-checks configuration.
    @cached_property
    def content_limits(self) -> int:
        """``[content] max_update_bytes``."""
        from pipeline.config.content import content_limits

        return content_limits(self)

    @cached_property
    def newsletter(self) -> NewsletterConfig:
        """The validated ``[newsletter]`` table."""
        from pipeline.config.mail import newsletter_config

        return newsletter_config(self)

    @cached_property
    def smtp(self) -> SmtpConfig:
        """The validated ``[smtp]`` table."""
        from pipeline.config.mail import smtp_config

        return smtp_config(self)

    @cached_property
    def state(self) -> StateConfig:
        """Where shared state lives: ``[state]`` and ``GOAL17_DATABASE_URL`` (read once, here)."""
        from pipeline.config.state import state_config

        return state_config(self)

    @cached_property
    def web(self) -> WebConfig:
        """The validated ``[web]`` table."""
        from pipeline.config.web import web_config

        return web_config(self)

    @cached_property
    def context_digest(self) -> str:
        """What every output depends on besides the content (code, templates, settings), hashed once."""
        from pipeline.caching.fingerprint import context_digest

        return context_digest(self)

    @cached_property
    def env(self) -> jinja2.Environment:
        """The Jinja2 environment for :attr:`templates_dir` (one per folder, shared)."""
        from pipeline.outputs.templating import environment

        return environment(self.templates_dir)

    def problem(self, table: str, key: str, message: str) -> str:
        """``site.toml:LINE: error: [table] key: message``: one line that says where to look."""
        return located(self.source, self.lines, table, key, message)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def tag_authority(self) -> str:
        """The RFC 4151 authority short ids are mapped under (:func:`pipeline.reading.ids.canonical_id`)."""
        return self.id_authority or ids.default_authority(self.host)

    def url(self, path: str = "") -> str:
        """Absolute URL of a site-relative path; the one place URLs are joined."""
        return self.base_url + path.lstrip("/")

    def with_overrides(self, **changes: Any) -> Settings:
        """Apply command-line overrides through the same validation as the file.

        A problem with an override is reported as ``--base-url: …``, not at a line of the
        file that the value did not come from."""
        raw = {k: getattr(self, k) for k in SITE_SPEC}
        raw["state_dir"] = str(self.state_dir)
        raw["templates_dir"] = str(self.templates_dir)
        changed = {k: v for k, v in changes.items() if v is not None}
        raw.update(changed)
        try:
            return _validate_site(raw, self.source, self.sections, base_dir=None, lines=self.lines)
        except SettingsError as exc:
            problems = []
            for text in exc.problems:
                key = next((k for k in changed if f"[site] {k}: " in text), None)
                if key is not None:
                    text = f"error: --{key.replace('_', '-')}: " + text.split(f"[site] {key}: ", 1)[1]
                problems.append(text)
            raise SettingsError(problems) from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Load ``path``; with no path, ``./site.toml`` if present, else the embedded defaults.

    Checks ``[site]`` and that every other table is a known one; the known tables' values are
    checked by :func:`load_checked_settings` (or by the feature, when it reads its table).
    """
    settings, problems = _load(path)
    if problems:
        raise SettingsError(problems)
    return settings


def _load(path: str | Path | None) -> tuple[Settings, list[str]]:
    """The settings, with defaults in place of bad values, and the problems found."""
    if path is None:
        candidate = Path(DEFAULT_SETTINGS_FILE)
        if not candidate.exists():
            return _validate_site({}, "<defaults>", {}, base_dir=None), []
        path = candidate
    path = Path(path)
    document = read_toml_document(path, "settings file", SettingsError)
    data, lines, source = dict(document.data), document.lines, str(path)
    problems: list[str] = []
    site = data.pop("site", {})
    if not isinstance(site, dict):
        problems.append(problem(source, lines.get(("site",)), "site: expected a [site] table"))
        site = {}
    sections = {}
    for name, table in data.items():
        if name not in TABLES:
            known = ", ".join(f"[{t}]" for t in ("site", *TABLES))
            problems.append(located(source, lines, name, "", f"unknown table (known: {known})"))
        elif not isinstance(table, dict):
            problems.append(problem(source, lines.get((name,)), f"{name}: expected a [{name}] table"))
        else:
            sections[name] = table
    problems.extend(control_problems(source, lines, {"site": site, **data}))
    settings = _validate_site(site, source, sections, base_dir=path.parent, lines=lines, problems=problems)
    return settings, sorted(problems, key=line_number)


def table_problems(settings: Settings) -> list[str]:
    """Every problem in the feature tables (see :data:`TABLES`), each once, in file order."""
    problems: list[str] = []
    for attribute in TABLES.values():
        try:
            getattr(settings, attribute)  # validates the table and keeps the result
        except SettingsError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    return sorted(problems, key=line_number)


def load_checked_settings(path: str | Path | None = None) -> Settings:
    """:func:`load_settings` and every table checked: what a command or the scheduler calls
    once at its start. Raises :class:`SettingsError` with all the problems of the file."""
    settings, problems = _load(path)
    problems += [p for p in table_problems(settings) if p not in problems]
    problems += _state_dir_problems(settings)
    if problems:
        raise SettingsError(sorted(problems, key=line_number))
    return settings


def _state_dir_problems(settings: Settings) -> list[str]:
    """A state folder that cannot be one (a file there, or a file where a parent should be)
    is a settings problem at the ``state_dir`` line, not a puzzling error in whatever command
    first opens the state database."""
    for folder in (settings.state_dir, *settings.state_dir.parents):
        if folder.exists():
            if folder.is_dir():
                return []
            if folder == settings.state_dir:
                message = f"{folder} is a file, not a folder"
            else:
                message = f"{settings.state_dir}: {folder} is a file, not a folder"
            return [located(settings.source, settings.lines, "site", "state_dir", message)]
    return []


def _validate_site(
    raw: Mapping[str, Any],
    source: str,
    sections: Mapping[str, Mapping[str, Any]],
    base_dir: Path | None,
    lines: Mapping[tuple[str, ...], int] | None = None,
    problems: list[str] | None = None,
) -> Settings:
    """The settings; bad values raise :class:`SettingsError`, or with ``problems`` given are
    added there and replaced by their defaults (so the other tables can still be checked)."""
    lines = lines or {}
    collect = problems
    problems = []
    wrong: set[str] = set()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SITE_SPEC:
            problems.append(located(source, lines, "site", key, "unknown setting"))
        elif not is_type(value, SITE_SPEC[key][0]):
            expected = SITE_SPEC[key][0][0].__name__
            problems.append(located(source, lines, "site", key, f"expected {expected}, got {value!r}"))
        else:
            values[key] = value
    merged = {key: values.get(key, default) for key, (_, default) in SITE_SPEC.items()}

    def bad(key: str, message: str) -> None:
        problems.append(located(source, lines, "site", key, message))
        wrong.add(key)

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
    for key in ("feed_items", "scope_feed_items", "snippet_items", "page_size"):
        if not 1 <= merged[key] <= 10_000:
            bad(key, f"must be between 1 and 10000, got {merged[key]}")
    hub = merged["websub_hub"]
    if hub and urlsplit(hub).scheme not in ("http", "https"):
        bad("websub_hub", f"must be an http(s) URL or empty, got {hub!r}")
    for key in ("title", "organisation", "sender_name"):
        if not merged[key].strip():
            bad(key, "must not be empty")
    if merged["id_authority"] and not ids.is_tag_authority(merged["id_authority"]):
        bad("id_authority", f"must be DNSname,date such as example.se,2026, got {merged['id_authority']!r}")
    templates_dir = Path(merged.pop("templates_dir") or TEMPLATES_DIR)
    if base_dir is not None and not templates_dir.is_absolute():
        templates_dir = base_dir / templates_dir
    if not templates_dir.is_dir():
        bad("templates_dir", f"{templates_dir} is not a folder")
        templates_dir = TEMPLATES_DIR
    if problems and collect is None:
        raise SettingsError(sorted(problems, key=line_number))
    if collect is not None:
        collect.extend(problems)
    merged.update({key: SITE_SPEC[key][1] for key in wrong if key != "templates_dir"})
    state_dir = Path(merged.pop("state_dir"))
    if base_dir is not None and not state_dir.is_absolute():
        state_dir = base_dir / state_dir
    return Settings(
        **merged,
        state_dir=state_dir,
        templates_dir=templates_dir,
        source=source,
        sections=dict(sections),
        lines=lines,
    )


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
    "load_checked_settings",
    "load_settings",
    "read_table",
    "table_problems",
]
