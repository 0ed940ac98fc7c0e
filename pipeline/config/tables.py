"""Reading one table of ``site.toml``: typed keys with defaults, and problems that name their line.

Shared by ``[site]`` (:mod:`pipeline.config.site`) and every feature table (``[newsletter]``,
``[smtp]``, ``[web]``, ``[content]``, ``[state]``), so each table is checked the same way and every
message reads ``site.toml:LINE: error: [table] key: …``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.config.tomlfile import problem

if TYPE_CHECKING:
    from pipeline.config.site import Settings


class SettingsError(Exception):
    """Invalid settings; ``problems`` lists every one as ``file: key: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# Characters no setting may hold: C0 controls but tab and line feed, DEL, C1 controls and the
# Unicode line and paragraph separators. Settings reach mail headers, pages and feeds (a CR LF in
# sender_name injected headers, a NUL in title went into every feed). Line feeds are refused too
# in the keys that become one header or one line of a page (_ONE_LINE); a multi-line description
# is fine.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ONE_LINE = {"title", "organisation", "sender_name", "subject_sv", "subject_en", "list_id", "helo"}


def located(source: str, lines: Mapping[tuple[str, ...], int], table: str, key: str, message: str) -> str:
    """A problem with ``[table] key`` as one line, with the key's line (else its table's)."""
    line = lines.get((table, key)) if key else None
    if line is None:
        line = lines.get((table,))
    label = f"[{table}] {key}: " if key else f"[{table}]: "
    return problem(source, line if source != "<defaults>" else None, label + message)


def read_table(
    settings: Settings,
    table: str,
    spec: Mapping[str, tuple[tuple[type, ...], Any]],
    problems: list[str] | None = None,
) -> dict[str, Any]:
    """Validate one optional table of the settings file against ``spec`` and fill in defaults.

    An unknown or mistyped key raises :class:`SettingsError`; with ``problems`` given, it is
    added there instead (and the key gets its default), so the caller can go on checking the
    other keys and report everything at once.
    """
    raw = dict(settings.sections.get(table, {}))
    found: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec:
            found.append(settings.problem(table, key, "unknown setting"))
            continue
        types, _ = spec[key]
        if not is_type(value, types):
            names = " or ".join(t.__name__ for t in types)
            found.append(settings.problem(table, key, f"expected {names}, got {value!r}"))
            continue
        values[key] = value
    if found and problems is None:
        raise SettingsError(found)
    if problems is not None:
        problems.extend(found)
    return {key: values.get(key, default) for key, (_, default) in spec.items()}


def control_problems(source: str, lines: Mapping[tuple[str, ...], int], data: Mapping[str, Any]) -> list[str]:
    """A problem for each string setting (in any table, or in a list) with a control character."""
    found = []
    for table, values in data.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            texts = value if isinstance(value, list) else [value]
            for text in texts:
                if not isinstance(text, str):
                    continue
                hit = _CONTROL.search(text) or (re.search("\n", text) if key in _ONE_LINE else None)
                if hit:
                    char = f"U+{ord(hit.group()):04X}"
                    found.append(
                        located(
                            source, lines, table, key, f"contains the control character {char}; remove it"
                        )
                    )
                    break
    return found


def line_number(text: str) -> int:
    found = re.match(r"^.*?:(\d+): error: ", text)
    return int(found.group(1)) if found else 0


def is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)
