"""Options and error reporting shared by the commands."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from pipeline.config.site import Settings, SettingsError, load_checked_settings
from pipeline.locale.cli import tr
from pipeline.reading.dates import DateError, parse_datetime
from pipeline.reading.model import ContentError


class CommandFailed(Exception):
    """A failure the user can fix; its message is printed as the one-line reason."""

    def __init__(self, message: str, details: list[str] | None = None, code: int = 1):
        super().__init__(message)
        self.details = details or []
        self.code = code


def report_failure(failure: CommandFailed) -> int:
    for line in failure.details:
        print(line, file=sys.stderr)
    print(f"error: {failure}", file=sys.stderr)
    return failure.code


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=os.environ.get("GOAL17_CONFIG"),
        help="settings file (default: ./site.toml if present, else built-in defaults)",
    )


def add_content(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--content", metavar="DIR", default="content", help="content folder (default: content)"
    )


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default="outputs", help="output folder (default: outputs)")


def add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="treat this as the current time (ISO 8601; without offset: the site's time zone)",
    )


def settings_from(args: argparse.Namespace, **overrides) -> Settings:
    try:
        settings = load_checked_settings(getattr(args, "config", None))
        base_url = getattr(args, "base_url", None)
        if base_url or overrides:
            settings = settings.with_overrides(base_url=base_url, **overrides)
        return settings
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None


def now_from(args: argparse.Namespace, settings: Settings) -> datetime:
    value = getattr(args, "now", None)
    if not value:
        return datetime.now(settings.tz)
    try:
        return parse_datetime(value, settings.tz)
    except DateError as exc:
        raise CommandFailed(f"--now: {exc}") from None


def content_failed(exc: ContentError, out: str | Path | None = None) -> CommandFailed:
    message = tr("{reason}; {out} was not changed", reason=exc, out=out) if out is not None else str(exc)
    return CommandFailed(message, details=[str(p) for p in exc.problems])


def describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` for the one-line message (``PATH -> OTHER: reason`` for a rename)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {os.fsdecode(exc.filename2)}"
    return f"{where}: {reason}"


def not_a_folder(path: Path) -> str:
    """``README.md is a file, not a folder`` (or ``/dev/full is not a folder``)."""
    return f"{path} is a file, not a folder" if path.is_file() else f"{path} is not a folder"


def file_in_the_way(path: str | Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is not a folder (``README.md`` for
    ``README.md/sub``), so a command can say why it cannot create ``path``; else None."""
    for ancestor in Path(path).parents:
        if ancestor.exists() or ancestor.is_symlink():
            return None if ancestor.is_dir() else ancestor
    return None


def unexpected(exc: BaseException, what: str) -> CommandFailed:
    if os.environ.get("GOAL17_DEBUG"):
        import traceback  # 9 ms to import: only for GOAL17_DEBUG

        traceback.print_exc()
    return CommandFailed(f"{what} failed: {type(exc).__name__}: {exc}")


def loaded_error(module: str, name: str) -> type[Exception] | tuple[()]:
    """``module.name`` (an exception class) if ``module`` is imported, else ``()``, which an
    ``except`` clause or ``isinstance`` matches with nothing.

    For clauses that report a library's errors (sqlite3, Jinja) in commands that import the
    library only when they use it: an exception of a library nobody imported cannot reach the
    clause, and the clause must not import it just to name the class. Evaluated only when an
    exception reaches the clause."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else ()
