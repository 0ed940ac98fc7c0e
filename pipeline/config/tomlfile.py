"""Reading a TOML configuration file, with one-line errors that name the file and the line.

``tomllib`` gives values but no line numbers, and a problem found in a value (``transport =
"pigeon"``) should point at its line like a compiler does: ``site.toml:57: error: …``. So the
text is also scanned for where each table and key is defined (:func:`key_lines`). The scan only
locates; the values always come from ``tomllib``, so a scan that misreads an odd line can make
a line number less precise, never a value wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_PART = re.compile(_KEY)
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)$")
MAX_BYTES = 1_000_000  # a settings file is a few KB; this refuses a device or a stray dump


@dataclass(frozen=True)
class TomlDocument:
    """A parsed file with the line of each table and key (key path → 1-based line)."""

    path: Path
    data: dict[str, Any]
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def line_of(self, *keys: str) -> int | None:
        """The line defining ``keys``, else the line of its nearest enclosing key or table."""
        for size in range(len(keys), 0, -1):
            line = self.lines.get(tuple(keys[:size]))
            if line is not None:
                return line
        return None


def problem(path: str | Path, line: int | None, message: str) -> str:
    """``site.toml:12: error: message`` (without ``:LINE`` when the line is not known)."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return f"{where}: error: {message}"


def read_toml(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """``path`` parsed; see :func:`read_toml_document`."""
    return read_toml_document(path, what, error).data


def read_toml_document(path: Path, what: str, error: type[Exception]) -> TomlDocument:
    """``path`` parsed, with the lines of its keys; a missing, unreadable or invalid file
    raises ``error([message])``.

    ``what`` names the file for people ("settings file", "schedule file"). A UTF-8 BOM is
    allowed, since editors on Windows add one. Only a regular file is read: ``/dev/zero`` or a
    folder given by mistake is refused instead of read forever.
    """
    try:
        if path.is_dir():
            raise error([problem(path, None, f"is a folder, not a {what}")])
        if path.exists() and not path.is_file():
            raise error([problem(path, None, f"is not a regular file, so not a {what}")])
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error([problem(path, None, f"{what} not found")]) from None
    except OSError as exc:
        raise error([problem(path, None, f"cannot read the {what}: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_BYTES:
        raise error([problem(path, None, f"larger than {MAX_BYTES // 1000} KB: not a {what}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error([problem(path, line, f"not UTF-8 text ({exc.reason})")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else None
        raise error([problem(path, line, f"invalid TOML: {message}")]) from None
    return TomlDocument(path, data, key_lines(text))


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Where each table header and key is defined: ``{("newsletter", "transport"): 57, …}``.

    A line-aware scan of TOML: table headers (``[a.b]``, ``[[a]]``) set the current table;
    ``key = value`` lines add a key to it; lines inside multi-line strings and inside values
    spanning several lines (arrays, inline tables) are skipped. The first definition wins.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth = 0  # open brackets of a value that continues on later lines
    closing: str | None = None  # the delimiter of the multi-line string we are in
    for number, line in enumerate(text.splitlines(), start=1):
        if closing is not None:
            if closing in line:
                rest = line.split(closing, 1)[1]
                closing = None
                depth += _bracket_balance(rest)
            continue
        if depth > 0:
            closing = _opens_multiline(line)
            if closing is None:
                depth = max(0, depth + _bracket_balance(line))
            continue
        header = _HEADER.match(line)
        if header and "=" not in line.split("]", 1)[0]:
            table = _parts(header.group(1))
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            lines.setdefault(table + _parts(assign.group(1)), number)
            value = assign.group(2)
            closing = _opens_multiline(value)
            if closing is None:
                depth = max(0, _bracket_balance(value))
    return lines


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(dotted))


def _opens_multiline(value: str) -> str | None:
    """The delimiter of a multi-line string that opens on this line and does not close on it."""
    return _scan(value)[1]


def _bracket_balance(value: str) -> int:
    """Opened minus closed ``[`` and ``{`` outside strings and comments."""
    code = _scan(value)[0]
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def _scan(value: str) -> tuple[str, str | None]:
    """``value`` without its strings and its comment, and the delimiter of a multi-line string
    left open at the end of the line (None if none)."""
    code: list[str] = []
    at = 0
    while at < len(value):
        char = value[at]
        if char == "#":
            break
        if char not in "\"'":
            code.append(char)
            at += 1
            continue
        triple = char * 3
        if value.startswith(triple, at):
            end = value.find(triple, at + 3)
            if end < 0:
                return "".join(code), triple
            at = end + 3
            while at < len(value) and value[at] == char:  # up to two quotes may end the content
                at += 1
            continue
        at += 1
        while at < len(value) and value[at] != char:
            at += 2 if char == '"' and value[at] == "\\" else 1
        at += 1
    return "".join(code), None
