"""The ``[state]`` settings table: where shared state lives — SQLite in ``state_dir``, or PostgreSQL.

One setting chooses the backend for every kind of state (subscribers and consent log, issues, send
log, schedule history, WebSub pending, web rate limits): ``GOAL17_DATABASE_URL`` in the environment,
else ``[state] database_url`` in ``site.toml``. The environment wins, so an operator can point one
checked-in ``site.toml`` at a different database per machine or role, and a password never has to
be written into a file that is committed. Unset or empty means SQLite in ``[site] state_dir``,
exactly as before; ``postgresql://…`` (or ``postgres://…``) means PostgreSQL 13 or newer.
Static outputs stay files whatever the backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pipeline.config.site import Settings
from pipeline.config.tables import SettingsError, read_table

ENVIRONMENT_VARIABLE = "GOAL17_DATABASE_URL"
STATE_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "database_url": ((str,), ""),
    "send_lease": ((int, float), 30),  # seconds before a dead sender's claims are taken over
}
SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql"}


@dataclass(frozen=True)
class StateConfig:
    backend: str  # "sqlite" or "postgresql"
    state_dir: Path  # local state that is never shared: caches, preview, the outbox
    database_url: str  # "" for SQLite
    source: str  # where database_url came from: the environment variable, the file, or "default"
    send_lease: float = 30.0  # PostgreSQL: a silent sender's rows are taken over after this long

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return redact(self.database_url) if self.database_url else f"sqlite:{self.state_dir}"


def redact(url: str) -> str:
    """The URL with its password as ``***`` (all but the scheme when it cannot even be parsed)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range, like a bad host does
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def state_config(settings: Settings, environ: Mapping[str, str] | None = None) -> StateConfig:
    """Validated ``[state]`` table, with ``GOAL17_DATABASE_URL`` taking precedence."""
    environ = os.environ if environ is None else environ
    raw = read_table(settings, "state", STATE_SPEC)
    from_env = environ.get(ENVIRONMENT_VARIABLE, "").strip()
    url, source = (from_env, ENVIRONMENT_VARIABLE) if from_env else (raw["database_url"].strip(), "file")
    lease = float(raw["send_lease"])
    if not 1 <= lease <= 3600:
        raise SettingsError([settings.problem("state", "send_lease", "must be between 1 and 3600 seconds")])
    if not url:
        return StateConfig("sqlite", Path(settings.state_dir), "", "default", lease)
    problem = None
    if redact(url).endswith("://***"):
        problem = f"is not a valid URL: {redact(url)!r} (e.g. postgresql://goal17@db.example.se/goal17)"
        scheme = ""
    elif (scheme := urlsplit(url).scheme.lower()) not in SCHEMES:
        problem = f"must be a postgresql:// URL or empty (SQLite in state_dir), got {redact(url)!r}"
    elif not urlsplit(url).hostname and "host=" not in urlsplit(url).query:
        problem = f"names no host: {redact(url)!r} (e.g. postgresql://goal17@db.example.se/goal17)"
    if problem:
        if source == ENVIRONMENT_VARIABLE:
            raise SettingsError([f"error: {ENVIRONMENT_VARIABLE}: {problem}"])
        raise SettingsError([settings.problem("state", "database_url", problem)])
    return StateConfig(SCHEMES[scheme], Path(settings.state_dir), url, source, lease)


__all__ = ["ENVIRONMENT_VARIABLE", "StateConfig", "redact", "state_config"]
