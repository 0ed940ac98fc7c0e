"""Reading a TOML configuration file into a dict, with one-line errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """``path`` parsed; a missing, unreadable or invalid file raises ``error([message])``.

    ``what`` names the file for people ("settings file", "schedule file"). A UTF-8 BOM is allowed,
    since editors on Windows add one.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error([f"{path}: {what} not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([f"{path}: cannot read the {what}: {exc}"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error([f"{path}: invalid TOML: {exc}"]) from None
