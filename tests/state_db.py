"""The SQLite state database and send lock of a test's newsletter settings, opened directly.

Only tests read the tables underneath the stores; the product goes through
:func:`pipeline.stores.backend.open_backend`."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from pipeline.config.mail import NewsletterConfig
from pipeline.stores import statedb


def connect(config: NewsletterConfig) -> closing[sqlite3.Connection]:
    """The state database (closed on leaving a ``with`` block)."""
    return closing(statedb.connect(config.state_dir))


def lock_path(config: NewsletterConfig) -> Path:
    return config.state_dir / "send.lock"
