"""The goal-17 taxonomy (targets 17.1–17.19 and their groups), loaded from package data.

Kept as data so that a title can be corrected without touching code, and so every output
(pages, feeds, snippets, newsletters) names targets the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Target:
    id: str
    sv: str
    en: str
    group: str
    text_sv: str = ""  # the official wording (Swedish), introducing the target's page
    text_en: str = ""  # the official wording as the UN adopted it

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv

    def text(self, lang: str) -> str:
        """The target's official wording in ``lang`` (the short name if none is recorded)."""
        return (self.text_en if lang == "en" else self.text_sv) or self.title(lang)

    @property
    def order(self) -> int:
        """Numeric position (17.2 sorts before 17.10)."""
        return int(self.id.split(".")[1])


@dataclass(frozen=True)
class Group:
    id: str
    sv: str
    en: str
    targets: tuple[str, ...]
    parent: str | None = None

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


@dataclass(frozen=True)
class Taxonomy:
    scheme: str
    goal_sv: str
    goal_en: str
    targets: tuple[Target, ...]
    groups: tuple[Group, ...]
    parents: dict[str, dict[str, str]]
    by_id: dict[str, Target]

    def target(self, target_id: str) -> Target:
        return self.by_id[target_id]

    def has_target(self, target_id: str) -> bool:
        return target_id in self.by_id

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def group_of(self, target_id: str) -> Group:
        return self.group(self.target(target_id).group)

    def goal_title(self, lang: str) -> str:
        return self.goal_en if lang == "en" else self.goal_sv

    def sort_targets(self, target_ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(target_ids), key=lambda t: self.target(t).order))


# The package's data file, read from the package folder: importlib.resources (with zipfile and
# tempfile, 10 ms to import, paid by every command that checks its settings) finds the same file
# for a package installed as files, and the code digest already reads the package that way.
TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "data" / "taxonomy.toml"


@cache
def load_taxonomy() -> Taxonomy:
    """Read the shipped taxonomy once per process; it is immutable afterwards."""
    raw = tomllib.loads(TAXONOMY_FILE.read_text("utf-8"))
    groups = tuple(
        Group(id=g["id"], sv=g["sv"], en=g["en"], targets=tuple(g["targets"]), parent=g.get("parent"))
        for g in raw["groups"]
    )
    group_of = {t: g.id for g in groups for t in g.targets}
    texts = raw.get("texts", {})
    targets = tuple(
        Target(
            id=tid,
            sv=names["sv"],
            en=names["en"],
            group=group_of[tid],
            text_sv=texts.get(tid, {}).get("sv", ""),
            text_en=texts.get(tid, {}).get("en", ""),
        )
        for tid, names in raw["targets"].items()
    )
    targets = tuple(sorted(targets, key=lambda t: t.order))
    return Taxonomy(
        scheme=raw["scheme"],
        goal_sv=raw["goal"]["sv"],
        goal_en=raw["goal"]["en"],
        targets=targets,
        groups=groups,
        parents=dict(raw.get("parents", {})),
        by_id={t.id: t for t in targets},
    )
