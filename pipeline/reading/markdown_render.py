"""Markdown → HTML with Python-Markdown's meaning, once per update.

Most bodies take :mod:`pipeline.reading.markdown_fast`, which makes the library's exact output for
the constructs updates usually hold and declines everything else; declined bodies go through
Python-Markdown itself. Either way the result is the same, byte for byte.

The output is *raw*: it may still hold whatever HTML the author typed. It becomes publishable only
after :mod:`pipeline.reading.sanitize` has cleaned it and made its URLs absolute. Keeping the two steps
apart lets the expensive step (this one) be cached by the body's hash alone.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from pipeline.reading import markdown_fast
from pipeline.reading.markdown_fast_library import MARKDOWN_VERSION
from pipeline.reading.slugs import slugify

if TYPE_CHECKING:
    import markdown  # imported by _converter, for the bodies the fast path declines

# Bump when the output of render_markdown changes for the same input (cache key ingredient).
RENDERER_VERSION = "1"
EXTENSIONS = ("tables", "fenced_code", "footnotes", "attr_list", "toc", "sane_lists")
EXTENSION_CONFIGS = {
    "toc": {"slugify": slugify, "toc_depth": "2-3"},
    "footnotes": {"BACKLINK_TEXT": "↩"},
}
# A table of contents is shown for updates with at least this many h2/h3 headings.
TOC_MIN_HEADINGS = 3


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str  # empty when the update is too short to need one
    heading_count: int
    # The body's cache_key when the renderer computed it already (the render cache does, to
    # look the body up), so finishing need not hash the body again; "" when nobody did.
    body_key: str = field(default="", compare=False)
    # True when the fast Markdown path wrote the HTML and vouches for its nesting, so the fast
    # cleaner need not check it again (sanitize.clean_html); False for the library's HTML and
    # for renderings read back from the render cache.
    vouched: bool = field(default=False, compare=False)


_local = threading.local()  # a Markdown converter keeps per-document state: one per thread
_HEADING = re.compile(r"<h[23][\s>]")


def _converter() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        import markdown

        from pipeline.reading import markdown_prefilter  # only for bodies the fast path declines

        # The library's own converter with its pattern work made cheaper, never different
        # (pipeline.reading.markdown_prefilter).
        md = _local.md = markdown_prefilter.install(
            markdown.Markdown(
                extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS, output_format="html"
            )
        )
    return md


def render_markdown(body: str, body_key: str = "") -> Rendered:
    """Convert one update's Markdown body; same input, same output.

    ``body_key``: ``cache_key(body)`` if the caller has it, kept on the result (see Rendered)."""
    fast = markdown_fast.render_fast_vouched(body)
    if fast is None:
        library = render_with_library(body)
        return (
            Rendered(library.html, library.toc_html, library.heading_count, body_key) if body_key else library
        )
    html, toc, headings, vouched = fast
    return Rendered(html, toc if headings >= TOC_MIN_HEADINGS else "", headings, body_key, vouched)


def render_with_library(body: str) -> Rendered:
    """Python-Markdown's own conversion: the definition the fast path is measured against."""
    md = _converter()
    md.reset()
    html = md.convert(body)
    headings = len(_HEADING.findall(html))
    toc = getattr(md, "toc", "") if headings >= TOC_MIN_HEADINGS else ""
    return Rendered(html=html, toc_html=toc, heading_count=headings)


def cache_key(body: str) -> str:
    """What the rendered HTML depends on: body, extensions and their settings, renderer version."""
    digest = _key_prefix().copy()
    digest.update(body.encode("utf-8"))
    digest.update(b"\0")
    return digest.hexdigest()


@cache
def _key_prefix() -> hashlib._Hash:
    """Everything in the key but the body, hashed once (10,000 keys per cold build)."""
    digest = hashlib.sha256()
    for part in (
        RENDERER_VERSION,
        MARKDOWN_VERSION,  # markdown.__version__, without importing the library
        repr(EXTENSIONS),
        repr(
            sorted(
                (k, sorted((kk, _stable_repr(vv)) for kk, vv in v.items()))
                for k, v in EXTENSION_CONFIGS.items()
            )
        ),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest


def _stable_repr(value: object) -> str:
    """``repr`` that is the same in every process: a function's repr holds its memory address."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(type(value)))}"
    return repr(value)
