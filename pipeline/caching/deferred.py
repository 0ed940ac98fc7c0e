"""Outputs that are described before they are made.

A builder may return, instead of bytes, a :class:`Deferred`: the digest of everything the file
depends on and a function that makes it. Publishing then makes only the files whose digest
changed since the last build (the others keep their bytes and mtime) and writes each one as soon
as it is made, so a 10,000-update build neither re-renders what did not change nor holds every
output in memory at once.

Files are made by forked workers (:mod:`pipeline.forkpool`), each with its own memory, so a part
that many files share (a listing row is joined into up to eight listing pages) would be made
once per worker. A :class:`Deferred` may therefore name, in ``uses``, a :class:`Shared` maker and
what it needs from it: publishing calls :func:`prepare` with the files it is about to make, each
maker makes everything those files need at once (on both cores, or from its own cache), and the
workers forked afterwards inherit it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Shared(Protocol):
    """Parts several outputs are made from, made once for all of them before they are made."""

    def prepare(self, wanted: list[Sequence[Any]], reuse: bool) -> None:
        """Make (or load) every part named in ``wanted`` (one sequence per output to be made).

        ``reuse=False``: the build was asked to trust no cache (``build --no-cache``)."""
        ...


@dataclass(frozen=True)
class Deferred:
    key: str  # digest of every input of the file; equal keys mean equal bytes
    produce: Callable[[], bytes]
    # Parts to make before ``produce`` runs; not compared: equality and hashing stay the key's
    # and the function's (the parts are often a list).
    uses: tuple[Shared, Sequence[Any]] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"Deferred({self.key})"


Output = bytes | Deferred


def materialize(output: Output) -> bytes:
    return output.produce() if isinstance(output, Deferred) else output


def materialize_all(files: Mapping[str, Output]) -> dict[str, bytes]:
    """Every file as bytes: for tests and tools that want to look at a whole build."""
    return {path: materialize(output) for path, output in files.items()}


def prepare(outputs: Iterable[Output], reuse: bool = True) -> None:
    """Let every :class:`Shared` maker the ``outputs`` name make what they need, once for all.

    Called before the outputs are made (and the workers that make them forked). It changes
    nothing but when the parts are made: an output made without it makes its parts itself.
    """
    wanted: dict[int, tuple[Shared, list[Sequence[Any]]]] = {}
    for output in outputs:
        uses = getattr(output, "uses", None)
        if uses is None:
            continue
        maker, parts = uses
        entry = wanted.get(id(maker))
        if entry is None:
            entry = wanted[id(maker)] = (maker, [])
        entry[1].append(parts)
    for maker, parts in wanted.values():
        maker.prepare(parts, reuse)
