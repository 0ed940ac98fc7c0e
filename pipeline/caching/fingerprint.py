"""Digests of what outputs depend on: the code, the templates, the settings, each update.

Incremental builds reuse a previous result only when the digest of everything it was made from
is unchanged, so a cached build is byte-identical to a cold one. The code and templates are
hashed whole (a few hundred KB, milliseconds): any edit to either invalidates everything that
depends on it, which is always correct and, for edits of code, rare enough not to matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import fields
from functools import cache
from pathlib import Path

from pipeline.caching import library_versions as metadata  # importlib.metadata's answers, cheaper
from pipeline.config.site import Settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # pipeline/
# Libraries whose output ends up in published bytes.
_LIBRARIES = ("markdown", "nh3", "jinja2", "feedgen", "lxml", "pyyaml")


def digest(*parts: object) -> str:
    """A short, stable hash of ``parts``: str and bytes as they are, anything else by its repr.

    Each part is tagged with its kind and length, so ``"None"`` and ``None``, or ``("a", "bc")``
    and ``("ab", "c")``, never collide; long strings are hashed without building their repr.
    The parts are fed to the hash one by one (an update's three HTML texts are most of its
    fingerprint's bytes: joining them first only copied them).
    """
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, bytes):
            tag, data = b"b", part
        elif isinstance(part, str):
            tag, data = b"s", part.encode("utf-8")
        else:
            tag, data = b"r", repr(part).encode("utf-8")
        h.update(tag + len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def quick_digest(*parts: str) -> str:
    """:func:`digest` for hot paths whose parts are strings that cannot hold NUL.

    Hex digests, content paths and numbers never contain NUL, so joining them with it keeps
    the parts apart without :func:`digest`'s per-part tags and lengths, which cost ten times
    more on the 10,000 cache keys and 12,000 output keys of every build.
    """
    return hashlib.blake2b("\0".join(parts).encode("utf-8"), digest_size=16).hexdigest()


# Bump when update_fingerprint hashes something else or in another way: its values then change,
# and with them every output key, so nothing made under the old meaning can be reused.
UPDATE_FINGERPRINT = "update-fingerprint 2"


def update_fingerprint(
    context: str,
    body_key: str,
    resolved: Sequence[str | None],
    rendered: tuple[int, ...],
    shown: tuple[object, ...],
) -> str:
    """An update's fingerprint from what its HTML is made of, not from the HTML itself.

    An update's three HTML texts are a function of its Markdown body, the code that renders and
    cleans it and the settings (``context``: :attr:`Settings.context_digest`), and what each of
    its links resolved to (``resolved``, in call order: this is where the other updates and the
    assets enter). Hashing those is the same key as hashing the HTML, without its bytes: the body
    enters as ``body_key``, its SHA-256 (:func:`pipeline.reading.markdown_render.cache_key`), which
    the render cache has computed already to look the body up; the HTML was three texts of about
    the body's size each (page, table of contents, feed copy). ``rendered`` holds cheap facts of
    the rendering itself (its lengths, its heading count), a guard against a rendering that is not
    this body's. ``shown`` is every other field an output shows (title, dates, summary, image with
    its size, URL, …), compared by ``repr`` as :func:`digest` does. SHA-256, not BLAKE2b: this CPU
    has SHA instructions, which make it 2.5 times faster.
    """
    head = repr((UPDATE_FINGERPRINT, context, body_key, resolved, rendered, shown))
    return hashlib.sha256(head.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@cache
def code_digest() -> str:
    """The package's source and data files and the versions of key libraries."""
    h = hashlib.blake2b(digest_size=16)
    for root in (PACKAGE_DIR,):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(root.parent).as_posix().encode())
                h.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=?".encode())
    return h.hexdigest()


def settings_digest(settings: Settings) -> str:
    return digest(*(repr(getattr(settings, f.name)) for f in fields(settings)))


def templates_digest(templates_dir: Path) -> str:
    """The templates an environment reads (read afresh: edits count)."""
    from pipeline.outputs.template_files import template_fingerprint

    return digest(template_fingerprint(templates_dir))


def context_digest(settings: Settings) -> str:
    """Everything every output depends on besides the content: code, templates, settings.

    Read through :attr:`Settings.context_digest`, which computes it once per Settings: a command
    is one build; the scheduler gives each job run its own copy, so template edits count."""
    return digest(code_digest(), templates_digest(settings.templates_dir), settings_digest(settings))
