"""The value tree front matter is read into: every value keeps the line it was written on.

A module of its own so that both readers of front matter, the general one
(:mod:`pipeline.reading.frontmatter`) and the fast one (:mod:`pipeline.reading.frontmatter_fast`),
build the same objects without importing each other.
"""

from __future__ import annotations

from typing import NamedTuple

Value = str | list["Field"] | dict[str, "Field"] | None


class Field(NamedTuple):
    """One value and the line it was written on; immutable.

    A named tuple rather than a frozen dataclass: a frozen dataclass sets each attribute through
    ``object.__setattr__`` in a Python ``__init__``, which was a quarter of reading an update's
    front matter (a dozen values each, 10,000 files a cold build). The fast reader builds them
    with ``tuple.__new__`` directly.
    """

    value: Value
    line: int  # 1-based line in the file
