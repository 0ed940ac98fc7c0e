"""The mapping file: which categories (or tags) of the old site mean which goal-17 targets.

A small TOML file, written once by whoever knows the old site::

    [categories]
    "Kommunala partnerskap" = ["17.17"]
    "Bistånd" = ["17.2", "17.9"]
    "Okategoriserat" = []          # known, deliberately no target

Names match case-insensitively and with runs of spaces as one. A category that is not in the
file is reported as unknown (a human should add it); a tag that is not in it is just a tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config.taxonomy import load_taxonomy
from pipeline.config.tomlfile import read_toml
from pipeline.importing.model import ImportFailed


class _MappingError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Mapping:
    targets: dict[str, tuple[str, ...]]  # normalised name -> targets
    source: str | None = None

    def lookup(self, name: str) -> tuple[str, ...] | None:
        """The targets of ``name``; None when the file does not know it."""
        return self.targets.get(normalise(name))


EMPTY = Mapping({})


def normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def load_mapping(path: str | Path | None) -> Mapping:
    if path is None:
        return EMPTY
    path = Path(path)
    try:
        data = read_toml(path, "mapping file", _MappingError)
    except _MappingError as exc:
        raise ImportFailed(str(exc)) from None
    unknown = sorted(set(data) - {"categories"})
    if unknown:
        raise ImportFailed(f"{path}: [{unknown[0]}]: unknown table (the mapping file has only [categories])")
    table = data.get("categories", {})
    if not isinstance(table, dict):
        raise ImportFailed(f"{path}: categories must be a table: [categories]")
    taxonomy = load_taxonomy()
    targets: dict[str, tuple[str, ...]] = {}
    for name, value in table.items():
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ImportFailed(f'{path}: [categories] {name!r}: expected a list of targets such as ["17.9"]')
        for target in value:
            if not taxonomy.has_target(target.strip()):
                raise ImportFailed(
                    f"{path}: [categories] {name!r}: unknown goal-17 target {target!r} (17.1 … 17.19)"
                )
        key = normalise(name)
        if key in targets:
            raise ImportFailed(
                f"{path}: [categories] {name!r} is given twice (names match regardless of case)"
            )
        targets[key] = tuple(t.strip() for t in value)
    return Mapping(targets, str(path))
