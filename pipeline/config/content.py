"""The ``[content]`` settings table: limits on what a build reads."""

from __future__ import annotations

from typing import Any

from pipeline.config.site import Settings
from pipeline.config.tables import SettingsError, read_table

CONTENT_SPEC: dict[str, tuple[tuple[type, ...], Any]] = {
    "max_update_bytes": ((int,), 1024 * 1024),
}
MAX_UPDATE_BYTES_RANGE = (1024, 64 * 1024 * 1024)


def content_limits(settings: Settings) -> int:
    """The validated ``[content]`` table (today one key, ``max_update_bytes``, default 1 MiB).

    Registered in :data:`pipeline.config.site.TABLES`, so a bad value is reported with every other
    settings problem at the start of any command; raises :class:`SettingsError`.
    """
    value = read_table(settings, "content", CONTENT_SPEC)["max_update_bytes"]
    low, high = MAX_UPDATE_BYTES_RANGE
    if not low <= value <= high:
        raise SettingsError(
            [
                settings.problem(
                    "content", "max_update_bytes", f"must be between {low} and {high}, got {value}"
                )
            ]
        )
    return value
