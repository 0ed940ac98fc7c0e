"""Installed libraries' versions, as :func:`importlib.metadata.version` gives them, read cheaply.

Every build digests the code it runs (:func:`pipeline.caching.fingerprint.code_digest`), and that
includes the versions of the libraries whose output ends up in published bytes. Importing
:mod:`importlib.metadata` (with the e-mail parser, ``zipfile``, ``csv`` and ``inspect`` it pulls
in) costs ≈ 30 ms, a tenth of a build that finds nothing changed. The common case needs none of
it: a wheel installed by pip is a ``NAME-VERSION.dist-info`` folder on ``sys.path`` whose
``METADATA`` starts with RFC 822 headers. :func:`version` reads that header the way
:mod:`importlib.metadata` finds and parses it, and hands anything else (an egg, a zip on the
path, another distribution finder, a header it does not read the same way, a library not found)
to :mod:`importlib.metadata` itself, so the answer is always that function's answer.

Used as ``metadata`` by :mod:`pipeline.caching.fingerprint`: ``version(name)`` and
``PackageNotFoundError`` (the standard library's class, looked up only when it is caught).
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache
from typing import Any

# importlib.metadata's Prepared.normalize: runs of "-", "_", "." are one separator.
_SEPARATORS = re.compile(r"[-_.]+")
# A header line as the e-mail parser reads METADATA: a name, a colon, a value (folding declines).
_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*(.*)")


def version(name: str) -> str:
    """The installed version of distribution ``name``, equal to ``importlib.metadata.version``.

    Raises ``importlib.metadata.PackageNotFoundError`` when it is not installed.
    """
    found = _from_dist_info(name)
    if found is not None:
        return found
    from importlib import metadata

    return metadata.version(name)


def __getattr__(name: str) -> Any:
    """``PackageNotFoundError``: the standard library's, imported when an ``except`` names it
    (only after :func:`version` raised it, when :mod:`importlib.metadata` is imported anyway)."""
    if name == "PackageNotFoundError":
        from importlib import metadata

        return metadata.PackageNotFoundError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _from_dist_info(name: str) -> str | None:
    """The ``Version`` header of the first matching ``.dist-info`` folder on ``sys.path``, found
    in importlib.metadata's order; None whenever its search might find something else."""
    if not _path_finder_only():
        return None
    wanted = _normalize(name)
    for entry in sys.path:
        folder = entry or "."
        if folder.lower().endswith(".egg") or not os.path.isdir(folder):
            if os.path.exists(folder):
                return None  # an egg or a zip: importlib.metadata reads those its own way
            continue
        matches = _infos(folder).get(wanted)
        if matches:
            first = matches[0]
            if not first.lower().endswith(".dist-info"):
                return None  # .egg-info: PKG-INFO, a file or a folder
            return _version_header(os.path.join(folder, first, "METADATA"))
    return None


def _path_finder_only() -> bool:
    """Whether the path finder is the only finder that can list distributions, as it is
    unless a program installed its own (importlib.metadata asks every finder, in order)."""
    from importlib.machinery import PathFinder

    return all(finder is PathFinder or not hasattr(finder, "find_distributions") for finder in sys.meta_path)


def _normalize(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower().replace("-", "_")


@cache
def _infos(folder: str) -> dict[str, list[str]]:
    """importlib.metadata's Lookup of one folder: ``.dist-info``/``.egg-info`` children by
    normalized name, in listing order."""
    infos: dict[str, list[str]] = {}
    try:
        children = os.listdir(folder)
    except OSError:
        return infos
    for child in children:
        low = child.lower()
        if low.endswith((".dist-info", ".egg-info")):
            infos.setdefault(_normalize(low.rpartition(".")[0].partition("-")[0]), []).append(child)
    return infos


def _version_header(path: str) -> str | None:
    """The first ``Version:`` header of a METADATA file, as the e-mail parser gives it; None
    (ask importlib.metadata) for a file it cannot read or a header it might read otherwise."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    for index, line in enumerate(lines):
        line = line.removesuffix("\r")
        if not line.strip():
            return None  # the headers ended without a Version: importlib's answer differs
        if "\r" in line or line[0] in " \t":
            return None  # folded or odd line ends: the parser's rules, not repeated here
        header = _HEADER.fullmatch(line)
        if header is None:
            return None
        if header.group(1).lower() == "version":
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following[:1] in (" ", "\t"):
                return None  # the value goes on on the next line (folded)
            value = header.group(2)
            return value if value and value.isprintable() and value == value.strip() else None
    return None
