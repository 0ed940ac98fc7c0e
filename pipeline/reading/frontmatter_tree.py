"""The value tree front matter is read into: every value keeps the line it was written on.

A module of its own so that both readers of front matter, the general one
(:mod:`pipeline.reading.frontmatter`) and the fast one (:mod:`pipeline.reading.frontmatter_fast`),
build the same objects without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

Value = str | list["Field"] | dict[str, "Field"] | None


@dataclass(frozen=True)
class Field:
    value: Value
    line: int  # 1-based line in the file
