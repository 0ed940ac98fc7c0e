"""Outputs that are described before they are made.

A builder may return, instead of bytes, a :class:`Deferred`: the digest of everything the file
depends on and a function that makes it. Publishing then makes only the files whose digest
changed since the last build (the others keep their bytes and mtime) and writes each one as soon
as it is made, so a 10,000-update build neither re-renders what did not change nor holds every
output in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Deferred:
    key: str  # digest of every input of the file; equal keys mean equal bytes
    produce: Callable[[], bytes]

    def __repr__(self) -> str:
        return f"Deferred({self.key})"


Output = bytes | Deferred


def materialize(output: Output) -> bytes:
    return output.produce() if isinstance(output, Deferred) else output


def materialize_all(files: Mapping[str, Output]) -> dict[str, bytes]:
    """Every file as bytes: for tests and tools that want to look at a whole build."""
    return {path: materialize(output) for path, output in files.items()}
